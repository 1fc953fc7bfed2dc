"""Bad files and flags reach the operator as one line naming the file or flag, exit 2, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_validate_sign_verify import GOOD_COMMAND, fn_openc2, write


@pytest.mark.parametrize("text, expected", [
    ("password = hunter2\n[fn_openc2]\n", "line 1 comes before any [section] header"),
    ("[fn_openc2]\njunk line\n", "line 2 is not 'key = value'"),
    ("[fn_openc2]\n[fn_openc2]\n", "section 'fn_openc2' already exists"),
])
def test_send_with_a_broken_config_file_exits_2(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "app.config"
    config.write_text(text)
    result = fn_openc2("send", "--consumer", "fw1", "--config", config, write(tmp_path, "c.json", GOOD_COMMAND))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(config) in result.stderr and expected in result.stderr
    assert "hunter2" not in result.stderr                     # the offending line may hold a secret


@pytest.mark.parametrize("flags, expected", [
    (["--listen", "127.0.0.1:99999"], "--listen: expected HOST:PORT (port 0-65535)"),
    (["--listen", "127.0.0.1:0", "--tls-cert", "NOPE", "--tls-key", "NOPE"], "--tls-cert: NOPE: not found"),
    (["--listen", "127.0.0.1:0", "--client-ca", "NOPE"], "--client-ca: NOPE: not found"),
    (["--listen", "127.0.0.1:0", "--tls-cert", "JUNK", "--tls-key", "JUNK"], "not a usable PEM certificate"),
])
def test_consumer_bad_listen_and_tls_files_exit_2(tmp_path: Path, flags: list[str], expected: str) -> None:
    junk = write(tmp_path, "junk.pem", "not a pem\n")
    flags = [str(junk) if f == "JUNK" else str(tmp_path / "missing.pem") if f == "NOPE" else f for f in flags]
    expected = expected.replace("NOPE", str(tmp_path / "missing.pem"))
    result = fn_openc2("consumer", *flags)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and expected in result.stderr, result.stderr
