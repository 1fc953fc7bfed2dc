"""Start a real Mosquitto broker for tests and the demo.

The config always sets `set_tcp_nodelay true`: without it every MQTT round
trip on loopback stalls on Nagle's algorithm (~180x slower)."""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from fn_openc2.lib.errors import OpenC2Error

if TYPE_CHECKING:
    from fn_openc2.lib.transfer.devpki import Pki

_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
_START_TIMEOUT = 10.0


class BrokerError(OpenC2Error, RuntimeError):
    """Mosquitto is missing or did not come up."""


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or BrokerError saying how to get it."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in _CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerError("mosquitto is not installed (not on PATH nor in /usr/sbin); "
                      "install the Debian package 'mosquitto' (dev.sh does this)")


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (there is a small reuse race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A running mosquitto; `.stop()` it (or use it as a context manager)."""

    host: str
    port: int
    tls_port: int | None
    workdir: str
    tls: Pki | None = None
    require_client_cert: bool = False
    passwords: dict[str, str] | None = None
    binary: str = field(default_factory=find_mosquitto)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str | None:
        return None if self.tls_port is None else f"mqtts://{self.host}:{self.tls_port}"

    @property
    def log_path(self) -> str:
        return str(Path(self.workdir) / "mosquitto.log")

    def _config(self) -> str:
        lines = ["per_listener_settings true", "persistence false", "set_tcp_nodelay true",
                 f"log_dest file {self.log_path}", "log_type error", "log_type warning",
                 "log_type notice", "log_type information", "connection_messages true"]
        if os.geteuid() == 0:
            lines.append(f"user {getpass.getuser()}")
        password_file = self._write_passwords()
        for port, tls in ((self.port, False), (self.tls_port, True)):
            if port is None:
                continue
            lines.append(f"listener {port} {self.host}")
            if password_file:
                lines += ["allow_anonymous false", f"password_file {password_file}"]
            else:
                lines.append("allow_anonymous true")
            if tls and self.tls is not None:
                lines += [f"cafile {self.tls.ca_cert}", f"certfile {self.tls.server_cert}",
                          f"keyfile {self.tls.server_key}", "tls_version tlsv1.2",
                          f"require_certificate {'true' if self.require_client_cert else 'false'}"]
        return "\n".join(lines) + "\n"

    def _write_passwords(self) -> str | None:
        if not self.passwords:
            return None
        path = Path(self.workdir) / "passwd"
        path.write_text("")
        path.chmod(0o600)
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        for user, password in self.passwords.items():
            subprocess.run([tool, "-b", str(path), user, password], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return str(path)

    def start(self) -> Broker:
        """Write the config and start; returns once every listener accepts."""
        conf = Path(self.workdir) / "mosquitto.conf"
        conf.write_text(self._config())
        out = open(Path(self.workdir) / "stdout.log", "ab")
        try:
            self.process = subprocess.Popen([self.binary, "-c", str(conf)], stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            out.close()
        deadline = time.monotonic() + _START_TIMEOUT
        ports = [p for p in (self.port, self.tls_port) if p is not None]
        while not all(_port_open(self.host, p) for p in ports):
            if self.process.poll() is not None:
                raise BrokerError(f"mosquitto exited with {self.process.returncode}: {self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"mosquitto did not listen on {self.host}:{ports} "
                                  f"within {_START_TIMEOUT}s: {self._log_tail()}")
            time.sleep(0.02)
        return self

    def _log_tail(self) -> str:
        texts = []
        for name in ("mosquitto.log", "stdout.log"):
            path = Path(self.workdir) / name
            if path.exists():
                texts.append(path.read_text(errors="replace")[-800:])
        return " | ".join(t.strip() for t in texts if t.strip()) or "(no log)"

    def stop(self) -> None:
        """Terminate and reap the broker; kill it if it will not go."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def restart(self) -> Broker:
        """Stop and start again on the same ports (for fault tests)."""
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_mosquitto(port: int = 0, tls: Pki | None = None, *, host: str = "127.0.0.1",
                    tls_port: int = 0, require_client_cert: bool = False,
                    passwords: dict[str, str] | None = None, workdir: str | None = None) -> Broker:
    """Start mosquitto on `host` (plain listener, plus a TLS one when `tls` is given).

    port/tls_port 0 picks free ports. `passwords` ({user: password}) turns off
    anonymous access on every listener."""
    binary = find_mosquitto()
    directory = workdir or tempfile.mkdtemp(prefix="fn-openc2-mosquitto-")
    os.chmod(directory, 0o755)  # nosec B103  # dev broker's temp dir: mosquitto may drop to its own user and must read it
    attempts = 1 if port else 3
    last: BrokerError | None = None
    for _ in range(attempts):
        broker = Broker(host=host, port=port or free_port(host),
                        tls_port=(tls_port or free_port(host)) if tls is not None else None,
                        workdir=directory, tls=tls, require_client_cert=require_client_cert,
                        passwords=passwords, binary=binary)
        try:
            return broker.start()
        except BrokerError as exc:  # a picked port may have been taken meanwhile
            last = exc
    assert last is not None
    raise last
