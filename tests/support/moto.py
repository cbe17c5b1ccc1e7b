"""A moto server on a free loopback port, from its own tool venv (.tool-venvs/moto), stopped by PID.

It serves HTTPS with a throwaway self-signed certificate, so policies that deny plain
HTTP (aws:SecureTransport) hold exactly as on AWS; clients trust it through `ca_bundle`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .tools import tool_venv_bin

_LISTENING = re.compile(r"Running on https://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    pid: int
    account_id: str
    ca_bundle: Path


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A one-day certificate for 127.0.0.1, made with the openssl CLI."""
    cert, key = folder / "moto-cert.pem", folder / "moto-key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(
            "openssl is missing: make test installs it (scripts/system-packages.txt)"
        )
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def moto_server(log: Path, account_id: str, **settings: str) -> Iterator[MotoServer]:
    """Start `moto_server -H 127.0.0.1 -p 0` (HTTPS) and yield it once it listens.

    `account_id` becomes the account every request acts in (MOTO_ACCOUNT_ID), so
    Terraform's allowed_account_ids check runs for real. `settings` are more MOTO_*
    environment variables.
    """
    binary = tool_venv_bin("moto", "moto_server")
    cert, key = self_signed_certificate(log.parent)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(log.parent),
        "MOTO_ACCOUNT_ID": account_id,
        **{f"MOTO_{k.upper()}": v for k, v in settings.items()},
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", "0", "-c", str(cert), "-k", str(key)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not listen within 60 s:\n{log.read_text()}")
            match = _LISTENING.search(log.read_text())
            port = int(match[1]) if match else None
            time.sleep(0.2)
        yield MotoServer(f"https://127.0.0.1:{port}", proc.pid, account_id, cert)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
