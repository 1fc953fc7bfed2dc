"""The README's promises: its first screen, its test command is what CI runs, and its
app.config tables list exactly the keys the registry accepts."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_test_command():
    setup_block = README.split("## Setup: two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in setup_block.strip().splitlines()]
    assert commands == ["./dev.sh demo", "./dev.sh test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    run_lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert run_lines[-1] == "exec ./dev.sh test"


def test_config_tables_are_generated_from_the_registry_keys():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_config_doc.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_every_config_key_is_in_the_readme():
    from fn_openc2.lib.producer.settings import CONFIG_KEYS_CONSUMER, CONFIG_KEYS_PRODUCER
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", README, flags=re.M))
    assert set(CONFIG_KEYS_PRODUCER) | set(CONFIG_KEYS_CONSUMER) <= documented


def test_docgen_sections_regenerate_into_the_readme_without_loss():
    """resilient-sdk docgen runs on a copy; its function and data-table
    sections match what the README carries (hand-written parts untouched)."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme_docgen.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for name in ("openc2_send_command", "openc2_query_features", "openc2_cancel_command"):
        assert f"Function - OpenC2: {name.split('openc2_')[1].replace('_', ' ').title()}" in README
    assert "### Data Table - OpenC2 Commands" in README and "### Data Table - OpenC2 Consumers" in README


def test_readme_python_example_runs_against_a_real_consumer(tmp_path):
    """The README's "Use it from Python" block, run as written against the reference HTTPS
    consumer: only its URL and CA path are pointed at the local one (issue 16.7)."""
    from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
    from fn_openc2.lib.transfer.devpki import make_pki

    block = README.split("<!-- python-example:start -->", 1)[1].split("<!-- python-example:end -->", 1)[0]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 12
    pki = make_pki(tmp_path)
    server = HttpsConsumerServer(Actuator("fw1", profiles=("slpf",)), "127.0.0.1", 0,
                                 tls_cert=pki.server_cert, tls_key=pki.server_key).start()
    try:
        code = (code.replace("https://fw1.example.com/.well-known/openc2", server.url)
                .replace("/etc/rescircuits/ca.pem", pki.ca_cert))
        scope: dict = {}
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    finally:
        server.stop()
    outcome = scope["outcome"]
    assert [(a.consumer, a.status, a.delivered, a.succeeded) for a in outcome.answers] == [("fw1", 200, True, True)]


def test_first_screen_says_what_it_is_how_to_run_it_and_how_to_use_it():
    """Issue 16.7: the first screen (about 45 lines) holds the description, the two commands
    and the whole Python example; the generated reference sits after the hand-written guide."""
    lines = README.splitlines()
    first = "\n".join(lines[:45])
    assert lines[0].startswith("# ") and "OpenC2" in first and "IBM SOAR" in first
    assert "./dev.sh demo" in first and "./dev.sh test" in first
    assert "<!-- python-example:start -->" in first and "<!-- python-example:end -->" in first
    guide_end = README.index("\n## Troubleshooting & Support\n")
    for marker in ("<!-- functions:start -->", "<!-- datatables:start -->", "<!-- config-keys:start"):
        assert README.index(marker) > guide_end, marker
    assert README.index("\n## Architecture\n") < guide_end
