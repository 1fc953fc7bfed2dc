"""How the demo's result looks in a terminal: notes as readable text, the two
data tables and the firewall's rule table as rich tables, the checks and a
one-line verdict. Plain strings and rich renderables only; no state."""
from __future__ import annotations

import datetime as _dt
import html
import json
import re
from html.parser import HTMLParser
from typing import Any
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

_BLOCK = {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "table"}


class _Text(HTMLParser):
    """Collects text: block tags become line breaks, list items bullets, and a
    <pre> holding JSON becomes one compact line (a note's command stays short)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._pre: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "pre":
            self._pre = []
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n  • ")
        elif tag in ("td", "th"):
            self.out.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre is not None:
            raw, self._pre = "".join(self._pre), None
            try:
                self.out.append(" " + json.dumps(json.loads(raw), separators=(", ", ": "), ensure_ascii=False))
            except ValueError:
                self.out.append("\n" + raw + "\n")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        (self._pre if self._pre is not None else self.out).append(data)


def html_to_text(markup: str) -> str:
    """A note's HTML as plain text a person reads (no tags, entities decoded)."""
    if "<" not in markup:
        return html.unescape(markup).strip()
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = []
    for line in "".join(parser.out).splitlines():
        body = line.lstrip()
        lines.append(line[: len(line) - len(body)] + re.sub(r"[ \t]+", " ", body).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _cell(value: Any, limit: int = 0) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    return text if not limit or len(text) <= limit else text[: limit - 1] + "…"


def _when(ms: Any) -> str:
    try:
        return _dt.datetime.fromtimestamp(int(ms) / 1000).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return _cell(ms)


def notes_panels(notes: Sequence[tuple[str, str]]) -> list[Panel]:
    """One panel per (title, note HTML)."""
    return [Panel(html_to_text(body) or "(empty note)", title=title, title_align="left", border_style="cyan")
            for title, body in notes]


def commands_table(rows: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Data table openc2_commands", title_justify="left", show_lines=False)
    for name in ("consumer", "responder", "action", "target", "status", "status text", "signature", "expires"):
        table.add_column(name, overflow="fold")
    for r in rows:
        status = _cell(r.get("status"))
        style = "green" if status == "200" else ("red" if status != "-" else "yellow")
        table.add_row(_cell(r.get("consumer")), _cell(r.get("responder")), _cell(r.get("action")),
                      _cell(r.get("target")), f"[{style}]{status}[/]",
                      _cell(r.get("status_text") or r.get("error"), 70), _cell(r.get("signature")),
                      _cell(r.get("expires")))
    return table


def consumers_table(rows: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Data table openc2_consumers", title_justify="left")
    for name in ("consumer", "reachable", "versions", "profiles", "pairs", "rate limit"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(_cell(r.get("consumer")), _cell(r.get("reachable")), _cell(r.get("versions")),
                      _cell(r.get("profiles")), _cell(r.get("pairs"), 90), _cell(r.get("rate_limit")))
    return table


def rules_table(snapshot: dict[str, Any]) -> Table:
    """The firewall's rule table as the device itself holds it."""
    table = Table(title=f"Firewall {snapshot.get('device_id')}: rule table", title_justify="left")
    for name in ("rule", "action", "target", "direction", "state", "until", "command_id"):
        table.add_column(name, overflow="fold")
    for r in snapshot.get("rules", []):
        table.add_row(_cell(r.get("rule_number")), _cell(r.get("action")), _cell(r.get("target")),
                      _cell(r.get("direction")), _cell(r.get("state")), _when(r.get("stop_time")),
                      _cell(r.get("command_id")))
    if not snapshot.get("rules"):
        table.caption = "(no rules)"
    return table


def fleet_table(snapshots: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Edge fleet: what each agent enforces", title_justify="left")
    for name in ("agent", "contained devices", "blocked files"):
        table.add_column(name, overflow="fold")
    for s in snapshots:
        devices = ", ".join(_cell(d.get("device") or d.get("target") or d) for d in s.get("contained_devices", []))
        files = ", ".join(_cell(f.get("file") or f.get("target") or f, 60) for f in s.get("blocked_files", []))
        table.add_row(_cell(s.get("device_id")), devices or "-", files or "-")
    return table


def checks_table(checks: Sequence[Any]) -> Table:
    table = Table(title="Checks", title_justify="left")
    table.add_column("", width=2)
    table.add_column("step")
    table.add_column("what was seen", overflow="fold")
    for c in checks:
        mark = "[green]✔[/]" if c.ok else ("[yellow]–[/]" if c.ok is None else "[red]✘[/]")
        table.add_row(mark, c.name, c.detail)
    return table


def verdict(checks: Sequence[Any], note: str | None = None) -> str:
    """The one line a person (or a script) looks at last."""
    failed = [c for c in checks if c.ok is False]
    skipped = [c for c in checks if c.ok is None]
    passed = len(checks) - len(failed) - len(skipped)
    head = "[bold green]DEMO PASSED[/]" if not failed else "[bold red]DEMO FAILED[/]"
    tail = f": {passed} checks passed"
    if failed:
        tail += f", {len(failed)} failed ({failed[0].name})"
    if skipped:
        tail += f", {len(skipped)} skipped"
    return head + tail + (f" [yellow]({note})[/]" if note else "")


def make_console() -> Console:
    """Wide enough that values are not cut when the output is a pipe or a file."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    return console
