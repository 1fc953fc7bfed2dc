"""OpenC2-Response (LS v2.0 section 3.3.2) and its Results map."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from .base import OPEN, NonEmptyModel, StrictModel
from .types import Action, Expect, Nsid, Number, StatusCode, Version

TargetNames = Annotated[
    list[str], Field(min_length=1), Expect("a non-empty array of distinct target names")
]


class Results(NonEmptyModel):
    """Section 3.3.2.2, Map{1..*}; extension members are profile nsids."""

    model_config = OPEN
    type_name: ClassVar[str] = "Results"
    versions: Annotated[list[Version], Field(min_length=1), Expect("a non-empty array of distinct versions")] = Field(None)
    profiles: Annotated[list[Nsid], Field(min_length=1), Expect("a non-empty array of profile nsids")] = Field(None)
    pairs: Annotated[
        dict[Action, TargetNames], Field(min_length=1), Expect("an object mapping actions to arrays of targets")
    ] = Field(None)
    rate_limit: Number = Field(None)


class Response(StrictModel):
    """Section 3.3.2 OpenC2-Response."""

    status: StatusCode
    status_text: str = Field(None)
    results: Results = Field(None)

    def extension_results(self, nsid: str) -> dict[str, Any] | None:
        """``results.<nsid>`` as JSON, or None."""
        if self.results is None or not self.results.__pydantic_extra__:
            return None
        value = self.results.__pydantic_extra__.get(nsid)
        return value if isinstance(value, dict) else None
