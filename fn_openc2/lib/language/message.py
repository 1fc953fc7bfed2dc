"""The Message envelope of LS v2.0 section 3.2 and OpenC2-Event (3.3.3)."""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import ChoiceModel, NonEmptyModel, Opt, StrictModel
from .command import Command
from .response import Response
from .types import DateTime, Expect, Signature


class Event(NonEmptyModel, extra="allow"):
    """Section 3.3.3: no common fields; profiles add content, at least one member."""

    type_name: ClassVar[str] = "OpenC2-Event"


class Headers(NonEmptyModel, extra="allow"):
    """Section 3.2 Headers, Map{1..*}; additional headers may be defined."""

    type_name: ClassVar[str] = "Headers"
    request_id: Opt[str] = None
    created: Opt[DateTime] = None
    from_: Opt[str] = Field(None, alias="from")
    to: Opt[Annotated[list[str], Field(min_length=1), Expect("a non-empty array of strings")]] = None


class OpenC2Content(ChoiceModel):
    """Section 3.2 OpenC2-Content choice."""

    type_name: ClassVar[str] = "OpenC2-Content"
    request: Opt[Command] = None
    response: Opt[Response] = None
    notification: Opt[Event] = None


class Body(StrictModel):
    """Section 3.2 Body choice (only ``openc2`` is defined)."""

    openc2: OpenC2Content


class Message(StrictModel):
    """Section 3.2 Message record."""

    headers: Opt[Headers] = None
    body: Body
    signature: Opt[Signature] = None

    @property
    def content_kind(self) -> str:
        """"request", "response" or "notification"."""
        return next(iter(self.body.openc2.__pydantic_fields_set__))
