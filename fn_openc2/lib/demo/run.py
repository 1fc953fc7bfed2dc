"""``fn-openc2 demo``: the app's main job end to end on this machine.

Start the consumers (stack), start the app's real function components in the
real resilient-circuits runtime against the offline SOAR, play the scenario's
steps as an analyst's rules would, then show and check what was written into
the incident. Everything started here is stopped in ``finally``.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.rule import Rule

from fn_openc2.lib.demo import render, scenario
from fn_openc2.lib.demo.checks import Check, StepRecord, check_firewall, check_fleet, check_step
from fn_openc2.lib.demo.stack import Stack

TABLES = ("openc2_commands", "openc2_consumers")
STEP_TIMEOUT = 60.0


def _export_columns() -> dict[str, list[str]]:
    """Column names of the app's data tables, from the package's export.res."""
    path = Path(__file__).resolve().parents[2] / "util" / "data" / "export.res"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {t["type_name"]: list(t["fields"]) for t in doc.get("types", []) if t["type_name"] in TABLES}


def _seed(store: Any) -> None:
    store.reset()
    for table, columns in _export_columns().items():
        store.define_table(table, columns)
    store.seed(scenario.INCIDENT, [{"id": a.id, "type": a.type, "value": a.value} for a in scenario.ARTIFACTS])


class _Player:
    """Runs steps through the app and records what each left in the incident."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.store = app.store

    def _counts(self) -> tuple[int, int, int]:
        inc = scenario.INCIDENT_ID
        return (len(self.store.notes(inc)), len(self.store.rows(inc, TABLES[0])),
                len(self.store.rows(inc, TABLES[1])))

    def play(self, step: scenario.Step) -> StepRecord:
        from fn_openc2.lib.offline_soar.runner import FunctionFailed

        rec = StepRecord(step)
        notes0, rows0, cons0 = self._counts()
        started = time.monotonic()
        try:
            rec.payload = self.app.run_function(step.function, step.inputs, timeout=STEP_TIMEOUT)
        except FunctionFailed as exc:
            rec.error = _reason(exc.message)
        except TimeoutError as exc:
            rec.error = str(exc)
        rec.elapsed_s = time.monotonic() - started
        inc = scenario.INCIDENT_ID
        rec.notes = self.store.notes(inc)[notes0:]
        rec.rows = self.store.rows(inc, TABLES[0])[rows0:]
        rec.consumer_rows = self.store.rows(inc, TABLES[1])[cons0:]
        return rec


def _reason(message: str) -> str:
    """resilient-circuits prefixes a component's exception with 'ERROR:' lines; keep the reason."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip() and ln.strip() != "ERROR:"]
    return " ".join(lines) or message


def _command_id_of(records: list[StepRecord], art_id: int) -> str | None:
    for rec in records:
        if rec.step.artifact and rec.step.artifact.id == art_id:
            for row in rec.rows:
                if row.get("command_id"):
                    return str(row["command_id"])
            content = (rec.payload or {}).get("content") or {}
            for key in ("command_id",):
                if isinstance(content, dict) and content.get(key):
                    return str(content[key])
    return None


def _steps(stack: Stack) -> list[scenario.Step]:
    steps = [scenario.QUERY if stack.mqtt else scenario.QUERY_FW_ONLY]
    return steps + list(scenario.ACTIONS)


def _play_all(app: Any, stack: Stack, console: Console) -> list[StepRecord]:
    player = _Player(app)
    steps = _steps(stack)
    records: list[StepRecord] = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("running the incident's actions", total=len(steps) + 1)
        for step in steps:
            progress.update(task, description=step.title)
            if step.needs_mqtt and not stack.mqtt:
                rec = StepRecord(step, skipped=stack.mqtt_skipped)
            else:
                rec = player.play(step)
            records.append(rec)
            _progress_line(progress.console, rec)
            progress.advance(task)
        command_id = _command_id_of(records, scenario.CANCEL_OF)
        if command_id is None:
            records.append(StepRecord(scenario.cancel_step("?"), error="no command_id recorded for the deny to cancel"))
        else:
            step = scenario.cancel_step(command_id)
            progress.update(task, description=step.title)
            records.append(player.play(step))
        _progress_line(progress.console, records[-1])
        progress.advance(task)
    return records


def _progress_line(console: Console, rec: StepRecord) -> None:
    if rec.skipped:
        console.print(f"  [yellow]–[/] {rec.step.title}  [dim]skipped[/]")
    elif rec.error:
        console.print(f"  [red]✘[/] {rec.step.title}  [dim]{rec.error[:120]}[/]")
    else:
        console.print(f"  [green]•[/] {rec.step.title}  [dim]{rec.elapsed_s:.1f}s, "
                      f"{len(rec.notes)} note(s), {len(rec.rows) + len(rec.consumer_rows)} row(s)[/]")


def _show(console: Console, stack: Stack, records: list[StepRecord], checks: list[Check]) -> None:
    inc = scenario.INCIDENT_ID
    store = _store()
    console.print(Rule(f"Incident {inc}: {scenario.INCIDENT['name']}"))
    titled = [(rec.step.title, note) for rec in records for note in rec.notes]
    for panel in render.notes_panels(titled):
        console.print(panel)
    console.print(render.consumers_table(store.rows(inc, TABLES[1])))
    console.print(render.commands_table(store.rows(inc, TABLES[0])))
    if stack.firewall is not None:
        console.print(render.rules_table(stack.firewall.snapshot()))
    if stack.agents:
        console.print(render.fleet_table([a.snapshot() for a in stack.agents]))
    console.print(render.checks_table(checks))


def _store() -> Any:
    from fn_openc2.lib.offline_soar import get_store
    return get_store()


def _checks(stack: Stack, records: list[StepRecord]) -> list[Check]:
    checks = [check_step(rec) for rec in records]
    if stack.firewall is not None:
        cancelled = next(a.value for a in scenario.ARTIFACTS if a.id == scenario.CANCEL_OF)
        kept = next(a.value for a in scenario.ARTIFACTS if a.id == scenario.KEPT_ON_FW)
        checks += check_firewall(stack.firewall.snapshot(), cancelled, kept)
    host = next(a.value for a in scenario.ARTIFACTS if a.type == "System Name")
    if stack.agents:
        checks.append(check_fleet(stack.agents, host))
    else:
        checks.append(Check(f"every edge agent contained {host}", None, stack.mqtt_skipped or "no fleet"))
    return checks


def _write_report(path: str, records: list[StepRecord], checks: list[Check]) -> None:
    """Machine-readable record of the run (for tests and scripts)."""
    inc = scenario.INCIDENT_ID
    store = _store()
    doc = {"checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
           "steps": [{"title": r.step.title, "error": r.error, "skipped": r.skipped,
                      "notes": [render.html_to_text(n) for n in r.notes], "rows": r.rows,
                      "consumer_rows": r.consumer_rows} for r in records],
           "rows": {t: store.rows(inc, t) for t in TABLES}}
    Path(path).write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")


def run_demo(*, mqtt: bool = True, report: str | None = None, verbose: bool = False,
             console: Console | None = None) -> int:
    """Play the scenario; 0 when every check passed, 1 otherwise."""
    from fn_openc2.lib.offline_soar.runner import CircuitsApp, CircuitsAppError

    console = console or render.make_console()
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    if not verbose:   # a failed function is reported in the checks; its traceback only with --verbose
        logging.getLogger("resilient_circuits").setLevel(logging.CRITICAL)
    stack, app = Stack(), None
    try:
        console.print(Rule("fn_openc2 demo: one incident, real function components, real consumers"))
        with console.status("starting consumers…"):
            stack.start(mqtt=mqtt, say=lambda m: console.print(f"  • {m}"))
        if stack.mqtt_skipped:
            console.print(f"[bold yellow]  ! {stack.mqtt_skipped}[/]")
        with console.status("starting the app in resilient-circuits (offline SOAR)…"):
            soar_dir = os.path.join(stack.workdir, "soar")
            os.makedirs(soar_dir, exist_ok=True)
            app = CircuitsApp(stack.config_text(), seed=_seed, workdir=soar_dir)
            app.start()
        console.print(f"  • app running: functions {', '.join(sorted(app.function_names()))}")
        records = _play_all(app, stack, console)
        checks = _checks(stack, records)
        _show(console, stack, records, checks)
        if report:
            _write_report(report, records, checks)
        console.print(render.verdict(checks, stack.mqtt_skipped))
        return 0 if all(c.ok is not False for c in checks) else 1
    except CircuitsAppError as exc:
        console.print(f"[bold red]DEMO FAILED[/]: the app did not start: {exc}")
        return 1
    finally:
        with console.status("stopping everything the demo started…"):
            if app is not None:
                app.stop()
            stack.stop()
