"""The service area's test stack: TLS material, MariaDB over TLS, a JWKS server, podman and bases.

Shared by tests/validators/service.py and bench/service.py. Everything is made
once per process and cleaned up at exit; base images are made once per machine
(a file lock serialises pytest-xdist workers) and kept, tagged by their recipe.
Traffic stays on loopback.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .mariadb import MariaDB
from .tools import ROOT, tool_venv_bin

PREFIX = "platformgen-service"
# The local stand-ins for the Dockerfile's default bases: a Debian 12 builder with
# python3-venv, and a distroless-like runtime (the same Debian Python 3.11, without
# shell, package manager, docs or locales).
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
RUNTIME_STRIP = [
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/i18n",
    "usr/share/zoneinfo",
    "usr/share/perl",
    "usr/share/perl5",
    "usr/share/debconf",
    "usr/share/python-wheels",
    "usr/share/bash-completion",
    "usr/share/zsh",
    "usr/lib/python3.11/ensurepip",
    "usr/lib/python3.11/idlelib",
    "usr/lib/python3.11/lib2to3",
    "usr/lib/python3.11/pydoc_data",
    "usr/lib/python3.11/tkinter",
    "usr/lib/x86_64-linux-gnu/perl",
    "usr/lib/x86_64-linux-gnu/perl-base",
    "usr/lib/x86_64-linux-gnu/gconv",
    "usr/lib/apt",
    "etc/apt",
    "var/lib/apt",
    "var/lib/dpkg",
    "var/cache",
    "var/log",
    "usr/sbin",
]
RECIPE = json.dumps(["bookworm", "minbase", BASE_PACKAGES, RUNTIME_STRIP, "usr/bin: python3*"])
RECIPE_KEY = hashlib.sha256(RECIPE.encode()).hexdigest()[:12]
BUILDER_IMAGE = f"localhost/{PREFIX}-builder:{RECIPE_KEY}"
RUNTIME_IMAGE = f"localhost/{PREFIX}-runtime:{RECIPE_KEY}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], *, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)


# --- shared per worker: TLS material, MariaDB, podman settings --------------------------------


@dataclass(frozen=True)
class Database:
    server: MariaDB
    ca: Path

    @property
    def url(self) -> str:
        return self.server.url("")

    def create(self, name: str, user: str, password: str) -> None:
        self.server.execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4;"
            f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';"
            f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'127.0.0.1';"
        )


@cache
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def tls() -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it (what RDS's bundle is to RDS)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is missing: `make test` installs it", pytrace=False)
    d = workdir() / "tls"
    d.mkdir()
    ca_key, ca, key, csr, cert = (
        d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    ext = d / "ext.cnf"
    ext.write_text(
        "[ext]\nsubjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    steps = [
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key,
            "-out",
            ca,
            "-days",
            "2",
            "-subj",
            "/CN=platformgen service CI CA",
        ],
        [
            openssl,
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            "/CN=127.0.0.1",
        ],
        [
            openssl,
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
            "-extensions",
            "ext",
        ],
    ]
    for step in steps:
        proc = run([str(s) for s in step])
        assert proc.returncode == 0, proc.stderr
    return ca, cert, key


@cache
def database() -> Database:
    ca, cert, key = tls()
    server = MariaDB.start(
        workdir() / "mariadb",
        extra_args=[
            f"--ssl-ca={ca}",
            f"--ssl-cert={cert}",
            f"--ssl-key={key}",
            "--require-secure-transport=ON",
        ],
    )
    atexit.register(server.stop)
    return Database(server, ca)


@cache
def podman_env() -> dict[str, str]:
    """podman with runc, cgroupfs and ulimits within the hard limits (see shared/local-stack.md)."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: `make test` installs it", pytrace=False)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    conf = workdir() / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = run(["podman", *args], timeout=timeout, env=podman_env())
    if check:
        assert proc.returncode == 0, f"podman {' '.join(args[:3])} failed:\n{proc.stderr[-3000:]}"
    return proc


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def base_images() -> None:
    """Make the builder and runtime bases once per machine (xdist workers wait on a lock)."""
    lock = Path(tempfile.gettempdir()) / f"{PREFIX}-bases.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if image_exists(BUILDER_IMAGE) and image_exists(RUNTIME_IMAGE):
            return
        debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
        if debootstrap is None:
            pytest.fail("debootstrap is missing: `make test` installs it", pytrace=False)
        root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-rootfs-", dir="/var/tmp")) / "root"
        try:
            proc = run(
                [
                    debootstrap,
                    "--variant=minbase",
                    f"--include={BASE_PACKAGES}",
                    "bookworm",
                    str(root),
                ],
                timeout=900,
            )
            assert proc.returncode == 0, (
                f"debootstrap failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
            for cache_dir in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for item in (root / cache_dir).glob("*"):
                    if item.is_file():
                        item.unlink()
            import_rootfs(root, BUILDER_IMAGE)
            for rel in RUNTIME_STRIP:
                target = root / rel
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
            for item in (root / "usr" / "bin").iterdir():
                if not item.name.startswith("python3"):
                    item.unlink() if not item.is_dir() or item.is_symlink() else shutil.rmtree(item)
            import_rootfs(root, RUNTIME_IMAGE)
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)


def import_rootfs(root: Path, image: str, changes: tuple[str, ...] | list[str] = ()) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    proc = subprocess.run(
        ["podman", "import", *(f"--change={change}" for change in changes), "-", image],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        env=podman_env(),
        timeout=600,
    )
    tar.wait()
    assert proc.returncode == 0 and tar.returncode == 0, proc.stderr


# --- shared per worker: a JWKS server and tokens ----------------------------------------------


@dataclass(frozen=True)
class Identity:
    issuer: str
    audience: str
    tokens: dict[str, str]


@cache
def identity() -> Identity:
    """A JWKS on a loopback port (the container shares the host network) and signed tokens."""
    python = tool_venv_bin("service", "python")
    port = free_port()
    # https, like Cognito: the CI CA signs the certificate, and the container trusts
    # that CA through SSL_CERT_FILE.
    issuer, audience = f"https://127.0.0.1:{port}/pool", "ci-client"
    proc = run([str(python), str(ROOT / "tests" / "support" / "jwt_tokens.py"), issuer, audience])
    assert proc.returncode == 0, proc.stderr
    minted = json.loads(proc.stdout)
    body = json.dumps(minted["jwks"]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path.endswith("/.well-known/jwks.json") else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    _, cert, key = tls()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    atexit.register(server.shutdown)
    return Identity(issuer, audience, minted["tokens"])


def make_build(service: Path, image: str, tag: str) -> subprocess.CompletedProcess[str]:
    """The service's own `make build`, with podman, the local bases and the CI CA as its RDS bundle.

    Builds in `service` (a scratch copy: certs/ is written into it).
    """
    certs = service / "certs"
    certs.mkdir(exist_ok=True)
    shutil.copy(tls()[0], certs / "rds-ca-bundle.pem")
    bundle = "/etc/ssl/certs/ca-certificates.crt"  # the host's: pip in the builder trusts it
    return run(
        [
            "make",
            "build",
            "CONTAINER=podman",
            f"IMAGE={image}",
            f"TAG={tag}",
            f"BUILDER_IMAGE={BUILDER_IMAGE}",
            f"RUNTIME_IMAGE={RUNTIME_IMAGE}",
            f"BUILD_FLAGS=--format docker --layers -v {bundle}:{bundle}:ro",
        ],
        cwd=service,
        env=podman_env(),
        timeout=900,
    )
