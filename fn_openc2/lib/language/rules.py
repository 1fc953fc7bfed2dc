"""Checks that need more than one field, or the profile registry.

They run on the decoded JSON (not the model) so they can report alongside
pydantic's shape errors; every access is defensive because the document may
be malformed in other places.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .constants import ACTIONS, CORE_ARGS, CORE_RESULTS, NSID_MAX_LENGTH, NSID_MIN_LENGTH, PROFILE_NAMES, TARGETS
from .errors import Issue, PathPart, describe, render_path
from .profiles.registry import _REGISTRY, CommandRule, Profile, get_profile, registered_profiles
from .translate import issues_from

Path = tuple[PathPart, ...]
_TARGETS = frozenset(TARGETS)
_PLAIN_TARGETS = _TARGETS - {"features"}
_CORE_ARGS_SET = frozenset(CORE_ARGS)  # nothing for the rules to look at inside these
_ACTIONS = frozenset(ACTIONS)
_SPEC_NAMED = frozenset(PROFILE_NAMES)


_NONE_FAILED: frozenset[str] = frozenset()


class Pass:
    """What one validation pass shares with the rules, and what they hand back.

    ``failed``: paths the shape check already reported (rules stay quiet there);
    ``lenient_profiles``: profiles LS v2.0 names but nobody registered are skipped
    with a note instead of reported; ``notes``: findings that are not errors;
    ``fixes``: (path, JSON) of extension maps whose text was rewritten into canonical
    form, for the caller to put in the model (extension maps are kept as JSON).
    """

    __slots__ = ("failed", "lenient_profiles", "notes", "fixes")

    def __init__(self, failed: frozenset[str] = _NONE_FAILED, lenient_profiles: bool = False) -> None:
        self.failed = failed
        self.lenient_profiles = lenient_profiles
        self.notes: list[Issue] = []
        self.fixes: list[tuple[Path, dict[str, Any]]] = []


class Rewritten(Exception):
    """Raised instead of recording a fix when the pass keeps no record (:data:`PLAIN`)."""


class _Discard(list[Issue]):
    def append(self, item: Issue) -> None:
        """Notes of a plain parse: nobody reads them."""


class _Refuse(list[tuple[Path, dict[str, Any]]]):
    def append(self, item: tuple[Path, dict[str, Any]]) -> None:
        raise Rewritten


def _plain() -> Pass:
    ctx = Pass()
    ctx.notes, ctx.fixes = _Discard(), _Refuse()
    return ctx


#: The pass of a plain parse (no notes wanted; a rewrite raises Rewritten so the caller
#: takes the full path). It stores nothing, so one instance serves every thread.
PLAIN = _plain()


def no_schema(nsid: str) -> str:
    """The wording for a profile of LS v2.0 section 3.3.1.3 that no registered profile implements."""
    return f"profile {nsid!r} is defined in LS v2.0 §3.3.1.3 but this validator has no schema for it"


def _p(*parts: PathPart) -> str:
    return render_path(parts)


def _unimplemented(ctx: Pass, path: Path, nsid: str, value: Any) -> list[Issue]:
    """An error, or under lenient_profiles a note that the contents were not checked
    (the member is still a profile's map: a JSON object)."""
    if ctx.lenient_profiles:
        if type(value) is not dict:
            return [Issue(render_path(path), f"expected an object (profile {nsid!r}'s map), got {describe(value)}")]
        ctx.notes.append(Issue(render_path(path), f"contents not checked: {no_schema(nsid)}"))
        return []
    return [Issue(render_path(path), no_schema(nsid))]


def _validate_extension(model: type[BaseModel] | None, value: Any, path: Path, what: str, nsid: str,
                        ctx: Pass) -> list[Issue]:
    if what != "target" and type(value) is dict and not value:
        # LS v2.0 section 3.1.4 shows AP-Args / AP-Results as Map, without the {1..*} other maps carry
        return []
    if model is None:
        return [Issue(render_path(path), f"profile {nsid!r} defines no {what} extension")]
    context: dict[str, Any] = {}
    try:
        checked = model.__pydantic_validator__.validate_python(value, context=context)
    except ValidationError as exc:
        return issues_from(exc, model, path)
    if context:  # a value was read in a non-canonical form: keep the canonical one
        ctx.fixes.append((path, checked.model_dump(mode="json", by_alias=True, exclude_unset=True)))
    return []


def extended_target_name(target: Mapping[str, Any]) -> str | None:
    """"ipv4_net" for a core target, "slpf:rule_number" for an extended one, None if unclear."""
    if len(target) != 1:
        return None
    key, value = next(iter(target.items()))
    if key in _TARGETS:
        return key
    if isinstance(value, dict) and len(value) == 1:
        return f"{key}:{next(iter(value))}"
    return key


def _quiet(found: Any, base: Path, failed: set[str] | None) -> list[Issue]:
    """A rule's findings under ``base``, less those inside a part that already failed
    (``args.er`` is not an object: nothing to say about ``args.er.device_containment``).
    A finding about the failed part itself stays: it says something else about it."""
    out = []
    for issue in found:
        path = _join(base, issue.path)
        if failed and any(path.startswith((f + ".", f + "[")) for f in failed):
            continue
        out.append(Issue(path, issue.message))
    return out


def _unique(values: Any, path: Path, noun: str) -> list[Issue]:
    if not isinstance(values, list):
        return []
    seen: set[Any] = set()
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, (str, int)):
            continue
        if v in seen:
            out.append(Issue(render_path((*path, i)), f"duplicate {noun} {v!r}: the list must hold each {noun} once"))
        seen.add(v)
    return out


# --- command ---------------------------------------------------------------------
_NO_PATHS: frozenset[str] = frozenset()
#: (nsid, action, target name) -> (the profile, what its pair check says: None, "action"
#: or "target", its rules that may concern that action); the profile is kept so a
#: re-registered nsid (another object) is noticed
_PLANS: dict[tuple[str, str, str], tuple[Profile, str | None, tuple[CommandRule, ...]]] = {}


def _concerns(rule: CommandRule, action: str) -> bool:
    actions = getattr(rule, "actions", None)
    return actions is None or action in actions


def _plan(profile: Profile, action: str, name: str) -> tuple[Profile, str | None, tuple[CommandRule, ...]]:
    """What a profile has to say about one action/target pair, worked out once."""
    plan = _PLANS.get((profile.nsid, action, name))
    if plan is not None and plan[0] is profile:
        return plan
    targets = profile.pairs.get(action)
    verdict = "action" if targets is None else None if name in targets else "target"
    plan = (profile, verdict, tuple(rule for rule in profile.rules if _concerns(rule, action)))
    if len(_PLANS) < 4096:
        _PLANS[(profile.nsid, action, name)] = plan
    return plan


def command_issues(doc: Mapping[str, Any], ctx: Pass | None = None, base: Path = ()) -> list[Issue]:
    """Choice, extension, argument and profile rules of one command.

    Written for the valid case to be cheap (it runs on every command sent and
    received): registry look-ups are plain dict reads, paths are built only for
    a finding."""
    if ctx is None:
        ctx = Pass()
    out: list[Issue] = []
    used: list[str] = []  # profile nsids whose extensions appear
    action = doc.get("action")
    target = doc.get("target")
    if type(target) is dict and (len(target) != 1 or next(iter(target)) not in _PLAIN_TARGETS):
        out += _target_issues(target, (*base, "target"), used, ctx)
    args = doc.get("args")
    if type(args) is dict:
        if not _CORE_ARGS_SET.issuperset(args):  # profile namespaces (or unknown names) among them
            out += _args_issues(args, base, used, ctx)
        if "stop_time" in args or "duration" in args:
            out += _time_issues(args, base)
        if action == "query" and type(target) is dict and "features" in target:
            out += _query_features_args(args, (*base, "args"))
    profile_name = doc.get("profile")
    named: Profile | None = None
    # else the Nsid shape error says it
    if type(profile_name) is str and NSID_MIN_LENGTH <= len(profile_name) <= NSID_MAX_LENGTH:
        named = _REGISTRY.get(profile_name)
        if named is None:
            if profile_name in _SPEC_NAMED:
                ctx.notes.append(Issue(_p(*base, "profile"),
                                       f"pairs and arguments not checked: {no_schema(profile_name)}"))
            else:
                known = ", ".join(sorted(_SPEC_NAMED | set(registered_profiles())))
                out.append(Issue(_p(*base, "profile"), f"unknown profile {profile_name!r}: known are {known}"))
        elif used and type(args) is dict:
            for nsid in used:
                if nsid != profile_name and nsid in args:
                    out.append(Issue(_p(*base, "args", nsid), f"argument namespace {nsid!r} does not belong "
                                                              f"to the named profile {profile_name!r}"))
    if named is None and not used:
        return out
    name = _understood_pair(action, target)
    if name is None or type(action) is not str:
        return out  # the shape check already says what is wrong with the action or the target
    failed: set[str] | None = None
    if ctx.failed or out:
        failed = set(ctx.failed)
        failed.update(issue.path for issue in out)
    if named is not None:
        _, verdict, chosen = _plan(named, action, name)
        if verdict is not None:
            out += _quiet([_pair_issue(named, action, name, verdict, base)], (), failed)
        for rule in chosen:
            found = rule(doc)
            if found:
                out += _quiet(found, base, failed)
    for nsid in used:
        if named is not None and nsid == named.nsid:
            continue
        prof = _REGISTRY.get(nsid)
        if prof is not None:
            for rule in _plan(prof, action, name)[2]:
                found = rule(doc)
                if found:
                    out += _quiet(found, base, failed)
    return out


def _pair_issue(profile: Profile, action: str, name: str, verdict: str, base: Path) -> Issue:
    if verdict == "action":
        return Issue(_p(*base, "action"), f"profile {profile.nsid!r} does not define action {action!r}; "
                                          f"it defines {', '.join(profile.pairs)}")
    return Issue(_p(*base, "target"), f"profile {profile.nsid!r} does not define '{action} {name}'; "
                                      f"{action} takes {', '.join(profile.pairs[action])}")


def _understood_pair(action: Any, target: Any) -> str | None:
    """The command's target name ("ipv4_net", "slpf:rule_number") when its action and
    target are ones the language or a registered profile defines, else None: the
    pair check and profile rules judge a command by that pair, so when it is not
    understood they would only repeat what the shape check said."""
    if type(action) is not str or action not in _ACTIONS or type(target) is not dict or len(target) != 1:
        return None
    for key, value in target.items():
        if key in _TARGETS:
            return str(key)
        prof = _REGISTRY.get(key)
        if prof is None or prof.target_model is None or type(value) is not dict or len(value) != 1:
            return None
        for member in value:
            return f"{key}:{member}" if member in prof.target_model.model_fields else None
    return None


def _join(base: Path, path: str) -> str:
    prefix = render_path(base)
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _target_issues(target: dict[str, Any], path: Path, used: list[str], ctx: Pass) -> list[Issue]:
    out: list[Issue] = []
    if len(target) != 1:
        names = ", ".join(map(repr, target)) or "none"
        out.append(Issue(render_path(path), f"expected exactly one target (LS 3.3.1.2), got {len(target)}: {names}"))
    for key, value in target.items():
        if key in _TARGETS:
            if key == "features":
                out += _unique(value, (*path, key), "feature")
            continue
        prof = get_profile(key)
        if prof is None:
            if key in _SPEC_NAMED:
                out += _unimplemented(ctx, (*path, key), key, value)
            else:
                out.append(Issue(render_path((*path, key)), f"unknown target {key!r}: neither a target of LS v2.0 "
                                                            "nor a registered profile namespace"))
            continue
        used.append(key)
        out += _validate_extension(prof.target_model, value, (*path, key), "target", key, ctx)
    return out


def _args_issues(args: dict[str, Any], base: Path, used: list[str], ctx: Pass) -> list[Issue]:
    """The profile namespaces among the arguments, each against its profile's args model."""
    out: list[Issue] = []
    for key, value in args.items():
        if key in CORE_ARGS:
            continue
        prof = _REGISTRY.get(key)
        if prof is None:
            if key in _SPEC_NAMED:
                out += _unimplemented(ctx, (*base, "args", key), key, value)
            else:
                out.append(Issue(_p(*base, "args", key), f"unknown argument {key!r}: neither an argument of LS v2.0 "
                                                          "nor a registered profile namespace"))
            continue
        if key not in used:
            used.append(key)
        if type(value) is dict and not value:
            continue  # LS v2.0 section 3.1.4 shows AP-Args as a Map, without the {1..*} other maps carry
        model = prof.args_model
        if model is None:
            out.append(Issue(_p(*base, "args", key), f"profile {key!r} defines no args extension"))
            continue
        context: dict[str, Any] = {}  # (inline _validate_extension: this runs for most commands)
        try:
            checked = model.__pydantic_validator__.validate_python(value, context=context)
        except ValidationError as exc:
            out += issues_from(exc, model, (*base, "args", key))
            continue
        if context:
            ctx.fixes.append(((*base, "args", key), checked.model_dump(mode="json", by_alias=True, exclude_unset=True)))
    return out


def _time_issues(args: dict[str, Any], base: Path) -> list[Issue]:
    out: list[Issue] = []
    if "duration" in args and "start_time" in args and "stop_time" in args:
        out.append(Issue(_p(*base, "args"), "at most two of start_time, stop_time and duration may be given "
                                            "(the third is derived: stop_time = start_time + duration)"))
    start, stop = args.get("start_time"), args.get("stop_time")
    if type(start) is int and type(stop) is int and stop < start:
        out.append(Issue(_p(*base, "args", "stop_time"), f"expected stop_time >= start_time ({start}), got {stop}"))
    return out


def _query_features_args(args: dict[str, Any], path: Path) -> list[Issue]:
    out = []
    for key, value in args.items():
        if key != "response_requested":
            out.append(Issue(render_path((*path, key)),
                             "'query features' takes no argument other than response_requested (LS 4.1)"))
        elif value != "complete":
            out.append(Issue(render_path((*path, key)),
                             f"'query features' allows only response_requested 'complete' (LS 4.1), got {value!r}"))
    return out


# --- response --------------------------------------------------------------------
def response_issues(doc: Mapping[str, Any], ctx: Pass | None = None, base: Path = ()) -> list[Issue]:
    """Uniqueness and extension rules of a response's results."""
    results = doc.get("results")
    if not isinstance(results, dict):
        return []
    ctx = ctx or Pass()
    path = (*base, "results")
    out: list[Issue] = []
    versions = results.get("versions")
    if versions is not None:
        out += _unique(versions, (*path, "versions"), "version")  # "Version unique" (LS 3.3.2.2)
    # profiles is "Nsid 0..*" without "unique" in LS v2.0: a repeated nsid is tolerated
    pairs = results.get("pairs")
    if isinstance(pairs, dict):
        for action, targets in pairs.items():
            out += _unique(targets, (*path, "pairs", action), "target")
            if isinstance(targets, list):
                for i, name in enumerate(targets):
                    if isinstance(name, str) and not _known_target_name(name):
                        out.append(Issue(render_path((*path, "pairs", action, i)),
                                         f"unknown target {name!r}: expected a target of LS v2.0, a profile nsid "
                                         "or an extended target 'nsid:name'"))
    for key, value in results.items():
        if key in CORE_RESULTS:
            continue
        prof = get_profile(key)
        if prof is None:
            if key in _SPEC_NAMED:
                out += _unimplemented(ctx, (*path, key), key, value)
            else:
                out.append(Issue(render_path((*path, key)), f"unknown result {key!r}: neither a result of LS v2.0 "
                                                            "nor a registered profile namespace"))
            continue
        out += _validate_extension(prof.results_model, value, (*path, key), "results", key, ctx)
    return out


def _known_target_name(name: str) -> bool:
    if name in _TARGETS or get_profile(name) is not None:
        return True
    nsid, colon, rest = name.partition(":")
    return bool(colon and NSID_MIN_LENGTH <= len(nsid) <= NSID_MAX_LENGTH and rest)


# --- message ---------------------------------------------------------------------
def message_issues(doc: Mapping[str, Any], ctx: Pass | None = None) -> list[Issue]:
    """Content rules of the wrapped command/response plus the request_id rule of LS 3.2."""
    body = doc.get("body")
    content = body.get("openc2") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return []
    ctx = ctx or Pass()
    out: list[Issue] = []
    request = content.get("request")
    if isinstance(request, dict):
        out += command_issues(request, ctx, ("body", "openc2", "request"))
        args = request.get("args")
        wants = args.get("response_requested", "complete") if isinstance(args, dict) else "complete"
        headers = doc.get("headers")
        if wants != "none" and not (isinstance(headers, dict) and "request_id" in headers):
            out.append(Issue("headers.request_id",
                             "a command that requests a response MUST carry headers.request_id (LS 3.2)"))
    response = content.get("response")
    if isinstance(response, dict):
        out += response_issues(response, ctx, ("body", "openc2", "response"))
    return out
