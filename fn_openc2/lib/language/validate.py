"""parse_* / check_* / review: one pydantic pass for shapes and values, one rules
pass for cross-field and profile checks, issues merged in document order."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from . import rules
from .codec import loads
from .command import Command
from .errors import Issue, OpenC2ValidationError, PathPart, describe, render_path, sort_issues
from .message import Event, Message
from .response import Response
from .semantic import check_ipv6_net
from .translate import issues_from

M = TypeVar("M", bound=BaseModel)
Doc = Mapping[str, Any] | bytes | bytearray | str  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6
Rules = Callable[[Mapping[str, Any], rules.Pass], list[Issue]]
_CLEAN: frozenset[str] = frozenset()
_PLAIN = rules.PLAIN


def _decode(doc: Any, what: str) -> Any:
    if isinstance(doc, (bytes, bytearray, str)):
        return loads(doc)  # raises OpenC2ValidationError(what="json")
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, Mapping):
        return dict(doc)
    return doc


class _Run(NamedTuple):
    model: Any
    issues: list[Issue]
    notes: list[Issue]


def _run(model: type[BaseModel], data: Any, what: str, rule_pass: Rules | None, lenient_profiles: bool = False) -> _Run:
    if not isinstance(data, dict):
        return _Run(None, [Issue("", f"expected a JSON object for the {what}, got {describe(data)}")], [])
    try:  # the validator itself: model_validate() adds a Python frame and keyword handling
        result: BaseModel | None = model.__pydantic_validator__.validate_python(data)
        issues: list[Issue] = []
    except ValidationError as exc:
        result, issues = None, issues_from(exc, model)
    notes: list[Issue] = []
    if rule_pass is not None:
        ctx = rules.Pass(frozenset(i.path for i in issues) if issues else _CLEAN, lenient_profiles)
        more = rule_pass(data, ctx)
        if more:
            issues = issues + more
        elif ctx.fixes and result is not None:
            # extension maps are kept as JSON: validate again with their canonical text in place
            result = model.model_validate(_rewrite(data, ctx.fixes))
        notes = ctx.notes
    if issues:
        issues = sort_issues(issues, data)
    return _Run(result, issues, notes)


def _rewrite(data: dict[str, Any], fixes: list[tuple[tuple[PathPart, ...], dict[str, Any]]]) -> dict[str, Any]:
    """A copy of ``data`` with each (path, value) put in place (the input is left as it was)."""
    root: dict[str, Any] = dict(data)
    for path, value in fixes:
        node: Any = root
        for part in path[:-1]:
            child = node[part]
            child = dict(child) if isinstance(child, dict) else list(child)
            node[part] = child
            node = child
        node[path[-1]] = value
    return root


def _parse(model: type[M], doc: Any, what: str, rule_pass: Rules | None) -> M:
    if type(doc) is dict:  # the usual case, valid: no more work than the two passes themselves
        try:
            result: M = model.__pydantic_validator__.validate_python(doc)
        except ValidationError:
            pass
        else:
            if rule_pass is None:
                return result
            try:
                more = rule_pass(doc, _PLAIN)
            except rules.Rewritten:
                pass  # extension text to put in canonical form: the full path does it
            else:
                if not more:
                    return result
                raise OpenC2ValidationError(what, sort_issues(more, doc))  # what _run would say
    elif isinstance(doc, model):
        return doc
    result, issues, _ = _run(model, _decode(doc, what), what, rule_pass)
    if issues or result is None:
        raise OpenC2ValidationError(what, issues)
    return result


def _check(model: type[M], doc: Any, what: str, rule_pass: Rules | None) -> list[Issue]:
    if type(doc) is dict:  # the usual case, valid: the two passes and nothing more (as in _parse)
        try:
            model.__pydantic_validator__.validate_python(doc)
        except ValidationError:
            pass
        else:
            try:
                more = rule_pass(doc, _PLAIN) if rule_pass is not None else None
            except rules.Rewritten:
                pass  # extension text in a non-canonical form stopped the pass: the full path finishes it
            else:
                return sort_issues(more, doc) if more else []  # what _run would say
    elif isinstance(doc, model):
        return []
    try:
        data = _decode(doc, what)
    except OpenC2ValidationError as exc:
        return exc.issues
    return _run(model, data, what, rule_pass).issues


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


def revalidate(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` (field names or aliases; values JSON or models) validated as ``model``:
    with every rule for the top-level kinds, shapes and values for the parts."""
    kind = next((what for what, (cls, _) in _KINDS.items() if cls is model), None)
    if kind is not None:
        rules_of = _KINDS[kind][1]
        return _parse(model, _plain_json(data), kind, rules_of)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise OpenC2ValidationError(getattr(model, "type_name", model.__name__), issues_from(exc, model)) from None


def _plain_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """Models inside ``data`` as JSON, so the rules (which read JSON) see them."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
        out[key] = value
    return out


# --- review: errors and notes, for people -----------------------------------------
class Review(NamedTuple):
    """What a person checking a document wants to know: the model when valid, every
    error, and the notes that are not errors (text read in a non-canonical form,
    profile contents not checked)."""

    model: Any
    issues: list[Issue]
    notes: list[Issue]


_KINDS: dict[str, tuple[type[BaseModel], Rules | None]] = {
    "command": (Command, rules.command_issues),
    "response": (Response, rules.response_issues),
    "message": (Message, rules.message_issues),
    "event": (Event, None),
}


def review(doc: Any, what: str, *, lenient_profiles: bool = False) -> Review:
    """Validate ``doc`` as a ``what`` ("command", "response", "message", "event").

    With ``lenient_profiles``, extension members of profiles LS v2.0 section 3.3.1.3
    names but no registered profile implements (e.g. ``sbom``, ``pac``) are skipped
    with a note; everything else is checked as usual.
    """
    try:
        model, rule_pass = _KINDS[what]
    except KeyError:
        raise ValueError(f"review() checks one of {', '.join(_KINDS)}, not {what!r}") from None
    try:
        data = _decode(doc, what)
    except OpenC2ValidationError as exc:
        return Review(None, exc.issues, [])
    result, issues, notes = _run(model, data, what, rule_pass, lenient_profiles)
    if result is not None:
        notes = notes + list(rewritten(data, result.model_dump(mode="json", by_alias=True, exclude_unset=True)))
    if notes:
        notes = sort_issues(notes, data)
    return Review(result if not issues else None, issues, notes)


def rewritten(before: Any, after: Any, path: tuple[PathPart, ...] = ()) -> list[Issue]:
    """Where the validated form differs from the text read (only canonical rewrites
    do that, e.g. RFC 4291 IPv6 text kept in its RFC 5952 form)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [issue for key, value in before.items() if key in after
                for issue in rewritten(value, after[key], (*path, key))]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [issue for i, (one, two) in pairs for issue in rewritten(one, two, (*path, i))]
    if before == after and type(before) is type(after):
        return []
    if isinstance(before, str) and isinstance(after, str) and _is_ipv6(before):
        return [Issue(render_path(path), f"{before!r} is not the canonical RFC 5952 text of this IPv6 value; "
                                         f"it is read (and written) as {after!r}")]
    return [Issue(render_path(path), f"read as {after!r}")]


def _is_ipv6(text: str) -> bool:
    try:
        check_ipv6_net(text)
    except ValueError:
        return False
    return True
