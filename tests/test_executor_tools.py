"""The executors' tool install (delivery/install-tools.sh, `make executor-tools`), run for real
with no internet: a loopback HTTP server serves fake tool downloads laid out as the vendors
publish them, plus matching and tampered checksum and signature files. A throwaway GPG key
stands in for HashiCorp's (its fingerprint through the test-only INSTALL_TOOLS_TEST_FINGERPRINT).

Proven: verified downloads install and report their versions; a tampered archive, a bad or
foreign signature, a wrong key fingerprint and an unpinned kubectl minor are refused with
nothing installed; the test overrides are refused inside CodeBuild; the pinned versions file
covers every Kubernetes minor the schema accepts but 1.37, which it refuses by name."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE_DIR, REFERENCE_SPEC, ROOT
from support.tools import tool_venv_bin

from generator.spec import area_rules, load_spec_text

DELIVERY = ROOT / "templates" / "repo" / "delivery"
SCRIPT = DELIVERY / "install-tools.sh"
VERSIONS = DELIVERY / "tools.versions"
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
HASHICORP = "C874011F0AB405110D02105534365D9472D7468F"
KUBERNETES = "1.34"
TOOLS = ("terraform", "helm", "kubectl", "cosign", "syft", "jq")


def _pins() -> dict[str, str]:
    pins = {}
    for line in VERSIONS.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pins[key] = value
    return pins


def _fake_binary(version_line: str) -> bytes:
    return f"#!/bin/sh\necho '{version_line}'\n".encode()


def _tgz(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(member, data)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Gpg:
    """A throwaway keyring with its own keys (never HashiCorp's)."""

    def __init__(self, home: Path) -> None:
        home.mkdir(mode=0o700)
        self.home = home

    def run(self, *args: str, data: bytes | None = None) -> bytes:
        proc = subprocess.run(["gpg", "--homedir", str(self.home), "--batch", *args],
                              input=data, capture_output=True, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    def new_key(self, name: str) -> str:
        self.run("--passphrase", "", "--quick-gen-key", f"{name} <{name}@example.invalid>",
                 "ed25519", "sign", "never")  # fmt: skip
        colons = self.run("--with-colons", "--fingerprint", f"{name}@example.invalid").decode()
        return re.search(r"^fpr:+([0-9A-F]{40}):", colons, re.M).group(1)

    def export(self, fingerprint: str) -> bytes:
        return self.run("--armor", "--export", fingerprint)

    def sign(self, fingerprint: str, data: bytes) -> bytes:
        return self.run("--local-user", fingerprint, "--detach-sign", "--output", "-", data=data)


@dataclass
class Mirror:
    root: Path
    url: str
    signer: str  # the fingerprint the good tree's SHA256SUMS are signed with
    stranger: str  # another throwaway key
    pins: Path  # a versions file pinning the fake downloads


def _publish(tree: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    base = tmp_path_factory.mktemp("tools")
    pins = _pins()
    gpg = Gpg(base / "gnupg")
    signer, stranger = gpg.new_key("signer"), gpg.new_key("stranger")

    tf, helm, kube = (
        pins["TERRAFORM_VERSION"],
        pins["HELM_VERSION"],
        pins[f"KUBECTL_VERSION_{KUBERNETES}"],
    )
    cosign, syft, jq = pins["COSIGN_VERSION"], pins["SYFT_VERSION"], pins["JQ_VERSION"]
    tf_zip = f"terraform_{tf}_linux_{ARCH}.zip"
    downloads = {
        f"releases.hashicorp.com/terraform/{tf}/{tf_zip}": _zip("terraform", _fake_binary(f"Terraform v{tf}")),
        f"get.helm.sh/helm-{helm}-linux-{ARCH}.tar.gz": _tgz(f"linux-{ARCH}/helm", _fake_binary(helm)),
        f"dl.k8s.io/release/v{kube}/bin/linux/{ARCH}/kubectl": _fake_binary(f"Client Version: v{kube}"),
        f"github.com/sigstore/cosign/releases/download/{cosign}/cosign-linux-{ARCH}": _fake_binary(f"GitVersion:    {cosign}"),
        f"github.com/anchore/syft/releases/download/v{syft}/syft_{syft}_linux_{ARCH}.tar.gz": _tgz("syft", _fake_binary(f"Version:   {syft}")),
        f"github.com/jqlang/jq/releases/download/jq-{jq}/jq-linux-{ARCH}": _fake_binary(f"jq-{jq}"),
    }  # fmt: skip
    sums_path = f"releases.hashicorp.com/terraform/{tf}/terraform_{tf}_SHA256SUMS"
    sums = "".join(
        f"{_sha(data)}  {name}\n"
        for name, data in [(tf_zip, downloads[f"releases.hashicorp.com/terraform/{tf}/{tf_zip}"]),
                           (f"terraform_{tf}_linux_other.zip", b"other")]
    ).encode()  # fmt: skip
    key_path = "www.hashicorp.com/.well-known/pgp-key.txt"
    good = {**downloads, sums_path: sums, f"{sums_path}.sig": gpg.sign(signer, sums),
            key_path: gpg.export(signer)}  # fmt: skip
    _publish(base / "www" / "good", good)
    # A tampered archive of each kind: terraform (against its signed SHA256SUMS) and the
    # pinned-checksum tools (a raw binary and a tarball).
    tampered = dict(good)
    for rel in list(downloads):
        tampered[rel] = downloads[rel] + b"# tampered\n"
    _publish(base / "www" / "tampered", tampered)
    # SHA256SUMS changed after signing, to match a tampered archive.
    tf_rel = f"releases.hashicorp.com/terraform/{tf}/{tf_zip}"
    resummed = sums.replace(_sha(downloads[tf_rel]).encode(), _sha(tampered[tf_rel]).encode())
    _publish(base / "www" / "badsig", {**tampered, sums_path: resummed})
    # Signed, validly, by another key, which the key file also holds.
    _publish(base / "www" / "stranger", {**tampered, sums_path: resummed,
             f"{sums_path}.sig": gpg.sign(stranger, resummed),
             key_path: gpg.export(signer) + gpg.export(stranger)})  # fmt: skip

    lines = []
    for key, value in pins.items():
        if key.startswith(
            ("HELM_SHA256_", "COSIGN_SHA256_", "SYFT_SHA256_", "JQ_SHA256_", "KUBECTL_SHA256_")
        ):
            continue
        lines.append(f"{key}={value}")
    for tool, rel in [("HELM", f"get.helm.sh/helm-{helm}-linux-{ARCH}.tar.gz"),
                      ("COSIGN", f"github.com/sigstore/cosign/releases/download/{cosign}/cosign-linux-{ARCH}"),
                      ("SYFT", f"github.com/anchore/syft/releases/download/v{syft}/syft_{syft}_linux_{ARCH}.tar.gz"),
                      ("JQ", f"github.com/jqlang/jq/releases/download/jq-{jq}/jq-linux-{ARCH}")]:  # fmt: skip
        lines.append(f"{tool}_SHA256_linux_{ARCH}={_sha(downloads[rel])}")
    kube_rel = f"dl.k8s.io/release/v{kube}/bin/linux/{ARCH}/kubectl"
    lines.append(f"KUBECTL_SHA256_{kube}_linux_{ARCH}={_sha(downloads[kube_rel])}")
    fake_pins = base / "tools.versions"
    fake_pins.write_text("# test pins of the fake downloads\n" + "\n".join(lines) + "\n")

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(base / "www")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield Mirror(base / "www", f"http://127.0.0.1:{port}", signer, stranger, fake_pins)
    finally:
        os.kill(server.pid, 15)
        server.wait(timeout=10)


def _install(
    mirror: Mirror, tree: str, bin_dir: Path, *tools: str, **env: str
) -> subprocess.CompletedProcess[str]:
    bin_dir.mkdir(exist_ok=True)
    return subprocess.run(
        ["bash", str(SCRIPT), *tools],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(bin_dir.parent),
             "TOOLS_BIN_DIR": str(bin_dir), "TOOLS_VERSIONS_FILE": str(mirror.pins),
             "KUBERNETES_VERSION": KUBERNETES, "INSTALL_TOOLS_TEST_MIRROR": f"{mirror.url}/{tree}",
             "INSTALL_TOOLS_TEST_FINGERPRINT": mirror.signer, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_verified_downloads_install_and_report_their_versions(
    mirror: Mirror, tmp_path: Path
) -> None:
    proc = _install(mirror, "good", tmp_path / "bin")
    assert proc.returncode == 0, proc.stderr
    pins = _pins()
    for tool in TOOLS:
        assert (tmp_path / "bin" / tool).is_file(), tool
        assert re.search(
            rf"^installed {tool} \S+ \({tmp_path}/bin/{tool}\), verified$", proc.stdout, re.M
        ), proc.stdout
    assert f"installed kubectl {pins[f'KUBECTL_VERSION_{KUBERNETES}']} " in proc.stdout
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == sorted(TOOLS)


@pytest.mark.parametrize(
    "tool, message",
    [("terraform", "REFUSED terraform (terraform_"), ("helm", "REFUSED helm (helm-v4"),
     ("kubectl", "REFUSED kubectl "), ("cosign", "REFUSED cosign "), ("syft", "REFUSED syft (syft_"),
     ("jq", "REFUSED jq ")],
)  # fmt: skip
def test_a_tampered_download_is_refused_and_nothing_installed(
    mirror: Mirror, tmp_path: Path, tool: str, message: str
) -> None:
    proc = _install(mirror, "tampered", tmp_path / "bin", tool)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "SHA-256" in proc.stderr, proc.stderr
    assert list((tmp_path / "bin").iterdir()) == []


@pytest.mark.parametrize("tree", ["badsig", "stranger"])
def test_sums_not_signed_by_the_pinned_key_are_refused(
    mirror: Mirror, tmp_path: Path, tree: str
) -> None:
    """badsig: SHA256SUMS rewritten after signing to match a tampered archive; stranger: the
    same, validly signed by another key that the served key file also holds."""
    proc = _install(mirror, tree, tmp_path / "bin", "terraform")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"is not signed by {mirror.signer}; nothing installed" in proc.stderr, proc.stderr
    assert list((tmp_path / "bin").iterdir()) == []


@pytest.mark.parametrize("pinned", ["stranger", "hashicorp"])
def test_a_key_with_another_fingerprint_is_refused(
    mirror: Mirror, tmp_path: Path, pinned: str
) -> None:
    """The served key signs the sums validly but is not the pinned one: a pinned other test
    key, and the production pin (HashiCorp's fingerprint, no override) against the test key."""
    fingerprint = mirror.stranger if pinned == "stranger" else HASHICORP
    proc = _install(mirror, "good", tmp_path / "bin", "terraform",
                    INSTALL_TOOLS_TEST_FINGERPRINT="" if pinned == "hashicorp" else fingerprint)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"is not {fingerprint}" in proc.stderr, proc.stderr
    assert list((tmp_path / "bin").iterdir()) == []


def test_kubectl_follows_the_cluster_minor_and_refuses_an_unpinned_one(
    mirror: Mirror, tmp_path: Path
) -> None:
    proc = _install(mirror, "good", tmp_path / "bin", "kubectl", KUBERNETES_VERSION="1.37")
    assert proc.returncode == 2
    assert "pins no kubectl for Kubernetes 1.37" in proc.stderr and "kubectl.sha256" in proc.stderr
    assert list((tmp_path / "bin").iterdir()) == []


def test_test_overrides_are_refused_in_codebuild(mirror: Mirror, tmp_path: Path) -> None:
    proc = _install(mirror, "good", tmp_path / "bin", "jq", CODEBUILD_BUILD_ID="p:1")
    assert proc.returncode == 2 and "refused in a CodeBuild build" in proc.stderr, proc.stderr
    assert list((tmp_path / "bin").iterdir()) == []


def test_a_tool_shadowed_on_path_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    """The builds run the tools by name: another jq earlier on PATH would bypass the verified one."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "jq").write_bytes(_fake_binary("jq-0"))
    (shadow / "jq").chmod(0o755)
    proc = _install(
        mirror, "good", tmp_path / "bin", "jq", PATH=f"{shadow}:{tmp_path / 'bin'}:/usr/bin:/bin"
    )
    assert proc.returncode == 2 and f"not {tmp_path}/bin/jq" in proc.stderr, proc.stderr


def test_the_pins_cover_each_schema_minor_and_each_value_is_a_sha256() -> None:
    """Every kubernetes.version the schema accepts has a pinned kubectl of that minor for amd64
    and arm64, but 1.37 (no published checksum found yet; refused by name above)."""
    pins = _pins()
    schema = json.loads((ROOT / "schema" / "platform.v1.schema.json").read_text())
    pattern = schema["properties"]["kubernetes"]["properties"]["version"]["pattern"]
    minors = [f"1.{n}" for n in range(20, 50) if re.fullmatch(pattern, f"1.{n}")]
    assert minors[0] == "1.30" and minors[-1] == "1.37", minors
    for minor in minors[:-1]:
        version = pins[f"KUBECTL_VERSION_{minor}"]
        assert version.startswith(f"{minor}."), version
        for arch in ("amd64", "arm64"):
            assert re.fullmatch(r"[0-9a-f]{64}", pins[f"KUBECTL_SHA256_{version}_linux_{arch}"])
    assert "KUBECTL_VERSION_1.37" not in pins
    assert pins["HELM_VERSION"].startswith("v4.")
    for tool in ("HELM", "COSIGN", "SYFT", "JQ"):
        for arch in ("amd64", "arm64"):
            assert re.fullmatch(r"[0-9a-f]{64}", pins[f"{tool}_SHA256_linux_{arch}"]), tool
    # Each checksum sits below a comment naming its source.
    assert VERSIONS.read_text().count("Source:") >= 5


def test_the_reference_executors_install_their_tools_first() -> None:
    """The rendered reference: both buildspecs' install phase runs make executor-tools, and the
    target passes the spec's Kubernetes minor to the script."""
    repo = REFERENCE_DIR / "repo"
    proc = subprocess.run(
        ["make", "-n", "executor-tools"], cwd=repo, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    minor = re.search(
        r"^kubernetes:\n\s+version: \"?([0-9.]+)",
        (REFERENCE_DIR / "platform.yaml").read_text(),
        re.M,
    )
    assert f"KUBERNETES_VERSION={minor.group(1)} bash delivery/install-tools.sh" in proc.stdout, (
        proc.stdout
    )
    assert (repo / "delivery" / "install-tools.sh").read_bytes() == SCRIPT.read_bytes()
    for stage in ("apply", "deploy"):
        spec = (
            repo / "infra" / "modules" / "executors" / "buildspecs" / f"{stage}.yml"
        ).read_text()
        # The tools come from the bundle's own pins: installed once it is unzipped, before
        # the build phase runs anything.
        commands = yaml.safe_load(spec)["phases"]["pre_build"]["commands"]
        tools = 'make -C "$BUNDLE_DIR" executor-tools TOOLS_BIN_DIR=/usr/local/bin'
        assert tools in commands, (stage, commands)
        unzip = next(i for i, c in enumerate(commands) if c.startswith("unzip "))
        assert unzip < commands.index(tools), (stage, commands)
        assert "INSTALL_TOOLS_TEST" not in spec, stage


@pytest.mark.parametrize(("version", "warned"), [("1.34", False), ("1.30", False), ("1.37", True)])
def test_validate_warns_when_the_executors_have_no_kubectl_for_the_minor(
    version: str, warned: bool
) -> None:
    text = REFERENCE_SPEC.read_text().replace('version: "1.34"', f'version: "{version}"', 1)
    assert f'version: "{version}"' in text
    result = load_spec_text(text, as_of=dt.date(2026, 11, 30))
    found = [d for d in result.diagnostics if d.code == "policy.executor-tools"]
    if not warned:
        assert found == []
        return
    (finding,) = found
    assert finding.severity == "warning" and finding.path == "kubernetes.version"
    assert "no kubectl is pinned for Kubernetes 1.37" in finding.message
    assert "KUBECTL_VERSION_1.37" in finding.fix
    assert area_rules.kubectl_minors() == {
        k.removeprefix("KUBECTL_VERSION_") for k in _pins() if k.startswith("KUBECTL_VERSION_")
    }


def _make_tools(mirror: Mirror, tree: str, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "tools"],
        cwd=repo,
        # The AWS CLI is one from platformgen's tool venv: `make tools` keeps an installed one
        # (tests/test_pipelines_bitbucket.py installs it from its lock).
        env={"PATH": f"{tool_venv_bin('awscli', 'aws').parent}:/usr/bin:/bin", "HOME": str(repo.parent), "TOOLS_VERSIONS_FILE": str(mirror.pins),
             "INSTALL_TOOLS_TEST_MIRROR": f"{mirror.url}/{tree}", "INSTALL_TOOLS_TEST_FINGERPRINT": mirror.signer},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_generated_make_tools_installs_every_verified_tool_for_local_targets_and_ci(
    mirror: Mirror, tmp_path: Path
) -> None:
    """A developer's `make tools`: the same script and pins, into the repository's .tools/bin,
    which the Makefile puts first on PATH; then the local targets' tool checks pass."""
    repo = tmp_path / "repo"
    shutil.copytree(REFERENCE_DIR / "repo", repo)
    refused = _make_tools(mirror, "tampered", repo)
    assert refused.returncode != 0 and "REFUSED terraform" in refused.stderr, refused.stderr
    assert not (repo / ".tools/bin/terraform").exists()
    proc = _make_tools(mirror, "good", repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = sorted(p.name for p in (repo / ".tools/bin").iterdir())
    assert installed == ["cosign", "helm", "jq", "syft", "terraform"], installed
    assert "aws: " in proc.stdout and "already installed" in proc.stdout, proc.stdout
    for tool in installed:
        assert re.search(
            rf"^installed {tool} \S+ \({repo}/.tools/bin/{tool}\), verified$", proc.stdout, re.M
        )
    pins = _pins()
    check = subprocess.run(
        ["make", "tool-terraform", "tool-helm", f"TERRAFORM_VERSION={pins['TERRAFORM_VERSION']}"],
        cwd=repo, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0 and "warning" not in check.stderr, check.stderr
