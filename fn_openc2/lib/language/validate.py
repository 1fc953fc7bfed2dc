"""parse_* / check_*: one pydantic pass for shapes and values, one rules pass
for cross-field and profile checks, issues merged in document order."""
from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from . import rules
from .codec import loads
from .command import Command
from .errors import Issue, OpenC2ValidationError, describe, sort_issues
from .message import Event, Message
from .response import Response
from .translate import issues_from

M = TypeVar("M", bound=BaseModel)
Doc = Mapping[str, Any] | bytes | bytearray | str


def _decode(doc: Any, what: str) -> Any:
    if isinstance(doc, (bytes, bytearray, str)):
        return loads(doc)  # raises OpenC2ValidationError(what="json")
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, Mapping):
        return dict(doc)
    return doc


def _run(model: type[M], data: Any, what: str,
         extra: Callable[[Mapping[str, Any]], list[Issue]] | None) -> tuple[M | None, list[Issue]]:
    if not isinstance(data, dict):
        return None, [Issue("", f"expected a JSON object for the {what}, got {describe(data)}")]
    try:
        result: M | None = model.model_validate(data)
        issues: list[Issue] = []
    except ValidationError as exc:
        result, issues = None, issues_from(exc, model)
    if extra is not None:
        more = extra(data)
        if more:
            issues = issues + more
    if issues:
        issues = sort_issues(issues, data)
    return result, issues


def _parse(model: type[M], doc: Any, what: str, extra: Callable[[Mapping[str, Any]], list[Issue]] | None) -> M:
    if isinstance(doc, model):
        return doc
    result, issues = _run(model, _decode(doc, what), what, extra)
    if issues or result is None:
        raise OpenC2ValidationError(what, issues)
    return result


def _check(model: type[M], doc: Any, what: str, extra: Callable[[Mapping[str, Any]], list[Issue]] | None) -> list[Issue]:
    if isinstance(doc, model):
        return []
    try:
        data = _decode(doc, what)
    except OpenC2ValidationError as exc:
        return exc.issues
    return _run(model, data, what, extra)[1]


def parse_command(doc: Doc | Command) -> Command:
    """A validated Command, or OpenC2ValidationError listing every issue."""
    return _parse(Command, doc, "command", rules.command_issues)


def parse_response(doc: Doc | Response) -> Response:
    """A validated Response, or OpenC2ValidationError listing every issue."""
    return _parse(Response, doc, "response", rules.response_issues)


def parse_message(doc: Doc | Message) -> Message:
    """A validated Message envelope, or OpenC2ValidationError listing every issue."""
    return _parse(Message, doc, "message", rules.message_issues)


def parse_event(doc: Doc | Event) -> Event:
    """A validated OpenC2-Event (notification content)."""
    return _parse(Event, doc, "event", None)


def check_command(doc: Any) -> list[Issue]:
    """The issues parse_command would raise (empty when valid)."""
    return _check(Command, doc, "command", rules.command_issues)


def check_response(doc: Any) -> list[Issue]:
    """The issues parse_response would raise (empty when valid)."""
    return _check(Response, doc, "response", rules.response_issues)


def check_message(doc: Any) -> list[Issue]:
    """The issues parse_message would raise (empty when valid)."""
    return _check(Message, doc, "message", rules.message_issues)


def check_event(doc: Any) -> list[Issue]:
    """The issues parse_event would raise (empty when valid)."""
    return _check(Event, doc, "event", None)
