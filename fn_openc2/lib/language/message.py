"""The Message envelope of LS v2.0 section 3.2 and OpenC2-Event (3.3.3)."""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import OPEN, ChoiceModel, NonEmptyModel, StrictModel
from .command import Command
from .response import Response
from .types import DateTime, Expect, Signature


class Event(NonEmptyModel):
    """Section 3.3.3: no common fields; profiles add content, at least one member."""

    model_config = OPEN
    type_name: ClassVar[str] = "OpenC2-Event"


class Headers(NonEmptyModel):
    """Section 3.2 Headers, Map{1..*}; additional headers may be defined."""

    model_config = OPEN
    type_name: ClassVar[str] = "Headers"
    request_id: str = Field(None)
    created: DateTime = Field(None)
    from_: str = Field(None, alias="from")
    to: Annotated[list[str], Field(min_length=1), Expect("a non-empty array of strings")] = Field(None)


class OpenC2Content(ChoiceModel):
    """Section 3.2 OpenC2-Content choice."""

    type_name: ClassVar[str] = "OpenC2-Content"
    request: Command = Field(None)
    response: Response = Field(None)
    notification: Event = Field(None)


class Body(StrictModel):
    """Section 3.2 Body choice (only ``openc2`` is defined)."""

    openc2: OpenC2Content


class Message(StrictModel):
    """Section 3.2 Message record."""

    headers: Headers = Field(None)
    body: Body
    signature: Signature = Field(None)

    @property
    def content_kind(self) -> str:
        """"request", "response" or "notification"."""
        return next(iter(self.body.openc2.__pydantic_fields_set__))
