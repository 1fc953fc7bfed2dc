#!/usr/bin/env python
"""Render doc/screenshots/*.png: what an analyst sees after the demo, in a real browser.

Why not the SDK placeholder: the README should show the notes and the two
data tables as they come out of the real function components. This runs the
demo scenario (``fn_openc2.lib.demo``: real components in resilient-circuits,
the offline SOAR, real consumers over HTTPS and MQTT), takes the incident's
notes and rows from the offline SOAR, lays them out the way the SOAR incident
page does (the OpenC2 tab with both tables; the Notes tab with note bodies as
rich text) and has headless Chromium (Debian's ``chromium`` package) photograph
each page. Dev-only: CI does not run it. Run from the repository root:

    apt-get install chromium            # once
    .venv/bin/python tools/make_screenshots.py [--no-mqtt] [--keep-html DIR]

The tab is doc/screenshots/main.png: the name the SDK gives its placeholder, so
``codegen --reload`` (which adds a missing main.png) keeps ours.

Cell values are escaped (SOAR shows text cells as text); note bodies are the
app's own HTML, which escapes every consumer byte (see lib/soar/writeback.py).
"""
from __future__ import annotations

import argparse
import html
import io
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doc" / "screenshots"
EXPORT = ROOT / "fn_openc2" / "util" / "data" / "export.res"
WIDTH = 1600
# The notes shown: one of each kind an analyst meets (text in the note, in this order).
NOTE_KINDS = ("1 of 1 answers OK", "not supported", "Refused, nothing was sent", "input rejected")
# The flags that work on this kind of machine (root, no network): see the project's machine notes.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1")

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 12px; margin: 0; background: #f4f4f4; color: #161616; }
header { background: #161616; color: #fff; padding: 10px 16px; font-size: 14px; }
header b { font-weight: 600; }
nav { background: #fff; border-bottom: 1px solid #ddd; padding: 0 16px; }
nav span { display: inline-block; padding: 10px 14px; color: #525252; }
nav span.on { color: #161616; border-bottom: 3px solid #0f62fe; font-weight: 600; }
main { padding: 14px 16px; }
section { background: #fff; border: 1px solid #e0e0e0; margin-bottom: 14px; }
h2 { font-size: 13px; margin: 0; padding: 9px 12px; border-bottom: 1px solid #e0e0e0; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th { background: #f4f4f4; text-align: left; font-weight: 600; padding: 6px 8px; border-bottom: 1px solid #e0e0e0; }
td { padding: 6px 8px; border-bottom: 1px solid #eee; vertical-align: top; overflow-wrap: anywhere;
     white-space: pre-wrap; font-size: 11px; }
.note { padding: 10px 12px; border-bottom: 1px solid #eee; }
.note .who { color: #6f6f6f; font-size: 11px; margin-bottom: 4px; }
.note table td, .note table th { white-space: normal; }
"""


def columns(table: str) -> list[dict[str, Any]]:
    """The table's columns in display order, as export.res defines them."""
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    (found,) = [t for t in doc["types"] if t["type_name"] == table]
    return sorted(found["fields"].values(), key=lambda c: c["order"])


def cell(value: Any, input_type: str) -> str:
    if value is None or value == "":
        return ""
    if input_type == "datetimepicker" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
    return html.escape(value if isinstance(value, str) else json.dumps(value))


def table_html(title: str, table: str, rows: list[dict[str, Any]]) -> str:
    cols = columns(table)
    head = "".join(f'<th style="width:{c.get("width") or 120}px">{html.escape(c["text"])}</th>' for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c['name']), c['input_type'])}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f"<section><h2>{html.escape(title)} ({len(rows)})</h2><table><tr>{head}</tr>{body}</table></section>"


def page(incident: dict[str, Any], active: str, content: str) -> str:
    tabs = "".join(f'<span class="{"on" if t == active else ""}">{t}</span>'
                   for t in ("Summary", "Tasks", "Details", "Notes", "Artifacts", "Attachments", "OpenC2"))
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>"
            f"<header><b>Incident {incident['id']}</b> · {html.escape(incident.get('name', ''))}</header>"
            f"<nav>{tabs}</nav><main>{content}</main></body></html>")


def tab_page(incident: dict[str, Any], commands: list[dict], consumers: list[dict]) -> str:
    return page(incident, "OpenC2", table_html("OpenC2 Commands", "openc2_commands", commands)
                + table_html("OpenC2 Consumers", "openc2_consumers", consumers))


def notes_page(incident: dict[str, Any], notes: list[str]) -> str:
    body = "".join(f'<div class="note"><div class="who">fn_openc2 · note {i + 1}</div>{note}</div>'
                   for i, note in enumerate(notes))
    return page(incident, "Notes", f"<section><h2>Notes ({len(notes)})</h2>{body}</section>")


def pick_notes(notes: list[str]) -> list[str]:
    """One note of each kind in NOTE_KINDS (the demo writes ten; four tell the story)."""
    chosen = [next((n for n in notes if kind in html.unescape(n)), None) for kind in NOTE_KINDS]
    return [n for n in chosen if n is not None] or notes[:3]


def note_height(note: str) -> int:
    """Roughly how tall a note renders (lines of its <pre> blocks, paragraphs, list items)."""
    return 70 + 17 * sum(note.count(mark) for mark in ("\n", "<p", "<li", "<br", "<tr"))


def page_width(table: str) -> int:
    return max(WIDTH, 60 + sum((c.get("width") or 120) + 17 for c in columns(table)))   # + cell padding


def shoot(chromium: str, html_text: str, png: Path, height: int, workdir: Path, width: int = WIDTH) -> None:
    source = workdir / (png.stem + ".html")
    source.write_text(html_text, encoding="utf-8")
    profile = workdir / ("profile-" + png.stem)
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                    f"--screenshot={png}", source.as_uri()], check=True, capture_output=True, timeout=120)


def run_demo_and_read(mqtt: bool) -> tuple[dict, list[str], list[dict], list[dict]]:
    from rich.console import Console

    from fn_openc2.lib.demo import scenario
    from fn_openc2.lib.demo.run import run_demo
    from fn_openc2.lib.offline_soar import get_store

    code = run_demo(mqtt=mqtt, console=Console(file=io.StringIO(), width=120))
    if code != 0:
        raise SystemExit("the demo failed; run './dev.sh demo' to see why")
    store, inc = get_store(), scenario.INCIDENT_ID
    return (store.incident(inc), store.notes(inc), store.rows(inc, "openc2_commands"),
            store.rows(inc, "openc2_consumers"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mqtt", action="store_true", help="skip the MQTT fleet (no mosquitto)")
    parser.add_argument("--keep-html", type=Path, help="also keep the rendered HTML pages in this folder")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("make_screenshots: no chromium; install Debian's package: apt-get install chromium", file=sys.stderr)
        return 2
    incident, notes, commands, consumers = run_demo_and_read(mqtt=not args.no_mqtt)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shoot(chromium, tab_page(incident, commands, consumers), OUT / "main.png",
              160 + 64 * len(commands) + 90 * len(consumers), work, page_width("openc2_commands"))
        shown = pick_notes(notes)
        shoot(chromium, notes_page(incident, shown), OUT / "notes.png", 120 + sum(map(note_height, shown)), work)
        if args.keep_html:
            args.keep_html.mkdir(parents=True, exist_ok=True)
            for source in work.glob("*.html"):
                shutil.copy2(source, args.keep_html / source.name)
    print(f"wrote {OUT / 'main.png'} and {OUT / 'notes.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
