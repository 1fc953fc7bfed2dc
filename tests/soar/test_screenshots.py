"""doc/screenshots: real renderings, not the SDK placeholder, and the page the
tool photographs shows the rows the way SOAR does (escaped text, export column
order, dates for datetimepicker cells). Chromium itself is not run here: the
tool is dev-only (tools/make_screenshots.py)."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from resilient_sdk.util.package_file_helpers import PATH_DEFAULT_SCREENSHOT

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "doc" / "screenshots"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _tool():
    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "tools" / "make_screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_screenshots_are_real_pngs_and_not_the_sdk_placeholder() -> None:
    placeholder = PATH_DEFAULT_SCREENSHOT.read_bytes()
    shots = sorted(SHOTS.glob("*.png"))
    assert [p.name for p in shots] == ["main.png", "notes.png"]
    for shot in shots:
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data != placeholder
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 1200 and height >= 600, shot.name


def test_readme_shows_every_screenshot() -> None:
    shown = set(re.findall(r"!\[[^\]]*\]\(doc/screenshots/([\w.]+)\)", README))
    assert shown == {p.name for p in SHOTS.glob("*.png")}


def test_tab_page_escapes_cells_keeps_export_order_and_formats_dates() -> None:
    tool = _tool()
    row = {"time": 1765000000000, "consumer": "fw1", "status": 501,
           "status_text": "<img src=x onerror=alert(1)>", "results": {"a": "<b>"}}
    page = tool.tab_page({"id": 7, "name": "<script>x</script>"}, [row], [])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "12/06/2025 05:46:40" in page
    assert html_escaped_json(row["results"]) in page
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page.split("OpenC2 Consumers")[0])
    export = json.loads((ROOT / "fn_openc2" / "util" / "data" / "export.res").read_text(encoding="utf-8"))
    (table,) = [t for t in export["types"] if t["type_name"] == "openc2_commands"]
    assert headers == [c["text"] for c in sorted(table["fields"].values(), key=lambda c: c["order"])]


def html_escaped_json(value) -> str:
    import html
    return html.escape(json.dumps(value))


def test_notes_page_picks_one_note_of_each_kind() -> None:
    tool = _tool()
    notes = ["<p>a</p>", "<p>Sent to fw1: 1 of 1 answers OK.</p>", "<p>status 501 deny x not supported</p>",
             "<p><b>Refused, nothing was sent:</b> protected</p>", "<p>OpenC2 deny — input rejected</p>"]
    assert tool.pick_notes(notes) == notes[1:]
    assert tool.pick_notes(["<p>x</p>"]) == ["<p>x</p>"]
