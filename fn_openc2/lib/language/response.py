"""OpenC2-Response (LS v2.0 section 3.3.2) and its Results map."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from .base import NonEmptyModel, Opt, StrictModel
from .types import Action, Expect, Nsid, Number, StatusCode, Version

TargetNames = Annotated[
    list[str], Field(min_length=1), Expect("a non-empty array of distinct target names")
]


class Results(NonEmptyModel, extra="allow"):
    """Section 3.3.2.2, Map{1..*}; extension members are profile nsids."""

    type_name: ClassVar[str] = "Results"
    versions: Opt[Annotated[
        list[Version], Field(min_length=1), Expect("a non-empty array of distinct versions")
    ]] = None
    profiles: Opt[Annotated[list[Nsid], Field(min_length=1), Expect("a non-empty array of profile nsids")]] = None
    pairs: Opt[Annotated[
        dict[Action, TargetNames], Field(min_length=1), Expect("an object mapping actions to arrays of targets")
    ]] = None
    rate_limit: Opt[Number] = None


class Response(StrictModel):
    """Section 3.3.2 OpenC2-Response."""

    status: StatusCode
    status_text: Opt[str] = None
    results: Opt[Results] = None

    def extension_results(self, nsid: str) -> dict[str, Any] | None:
        """``results.<nsid>`` as JSON, or None."""
        if self.results is None or not self.results.__pydantic_extra__:  # pylint: disable=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
            return None
        value = self.results.__pydantic_extra__.get(nsid)  # pylint: disable=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
        return value if isinstance(value, dict) else None
