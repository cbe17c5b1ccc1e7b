"""The signing chain of `make publish` / `make deploy`, with the nearest real tools here.

The generated CI signs each image by digest with cosign (a KMS key) and attaches syft's
CycloneDX SBOM; `make deploy` verifies the signature of the digest before helm runs. No
cosign or syft binary can be installed on this machine, so this test runs the same chain
with Debian's `docker-registry` on a loopback port, `skopeo` (GPG simple signing: this
skopeo, 1.9, signs with a sigstore key but cannot make one) and PyPI's cyclonedx-bom:

1. an OCI image (written here, byte for byte) is pushed once to the registry and signed;
2. the CycloneDX SBOM of the rendered API's locked dependencies is pushed next to it under
   cosign's tag for it (`sha256-<hex>.sbom`) and signed too;
3. a policy that requires the signature admits both, by digest;
4. it refuses an unsigned digest in the same repository, the good signature moved onto
   another digest, and a digest signed by a key the policy does not trust.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR
from support.service_stack import free_port
from support.tools import tool_venv_bin
from validators import require

pytestmark = pytest.mark.slow

REPOSITORY = "getprospa/api"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOCK = REFERENCE_DIR / "repo" / "services" / "api" / "requirements.lock"


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layout(layout: Path, tag: str, manifest: dict[str, object]) -> str:
    """Write an OCI image layout holding `manifest` under `tag`; return its digest."""
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    desc = _blob(layout, raw)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": manifest["mediaType"],
                **desc,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return str(desc["digest"])


def _image(layout: Path, tag: str, files: dict[str, bytes]) -> str:
    """A one-layer image with `files`, deterministic (no timestamps)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    layer = tar_bytes.getvalue()
    compressed = gzip.compress(layer, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/app/serve"], "User": "10001"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(layout, json.dumps(config, sort_keys=True).encode()),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                **_blob(layout, compressed),
            }
        ],
    }
    return _layout(layout, tag, manifest)


class Chain:
    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.registry = tmp, f"127.0.0.1:{port}"
        self.skopeo = require("skopeo")
        self.gpg = require("gpg")
        self.registries_d = tmp / "registries.d"
        self.registries_d.mkdir()
        lookaside = (tmp / "lookaside").as_uri()
        (self.registries_d / "local.yaml").write_text(
            f"docker:\n  {self.registry}:\n    lookaside: {lookaside}\n"
            f"    lookaside-staging: {lookaside}\n"
        )
        self.lookaside = tmp / "lookaside"
        self.homes: list[Path] = []

    def env(self, home: Path) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": str(home)}

    def key(self, name: str) -> tuple[Path, str, Path]:
        """A new GPG signing key: its home, fingerprint and exported public key."""
        # A short path: gpg-agent's socket lives in it (sockets allow ~108 characters).
        home = Path(tempfile.mkdtemp(prefix=f"gpg-{name}-", dir="/tmp"))
        self.homes.append(home)
        run = dict(env=self.env(home), check=True, capture_output=True, text=True)
        subprocess.run(
            [self.gpg, "--batch", "--passphrase", "", "--quick-gen-key",
             f"{name} <{name}@platformgen.invalid>", "default", "sign", "never"], **run,
        )  # fmt: skip
        listing = subprocess.run([self.gpg, "--with-colons", "--list-keys"], **run).stdout
        fingerprint = next(ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:"))
        public = self.tmp / f"{name}.gpg"
        exported = subprocess.run(
            [self.gpg, "--export", fingerprint], env=self.env(home), check=True, capture_output=True
        )
        public.write_bytes(exported.stdout)
        return home, fingerprint, public

    def close(self) -> None:
        """Stop the gpg-agent each key's gpg started, then remove its home."""
        for home in self.homes:
            subprocess.run([require("gpgconf"), "--kill", "gpg-agent"], env=self.env(home),
                           capture_output=True)  # fmt: skip
            shutil.rmtree(home, ignore_errors=True)

    def push(self, layout: Path, tag: str, signer: tuple[Path, str, Path] | None) -> None:
        sign = ["--sign-by", signer[1]] if signer else []
        env = self.env(signer[0]) if signer else dict(os.environ)
        proc = subprocess.run(
            [self.skopeo, "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
             "--registries.d", str(self.registries_d), *sign,
             f"oci:{layout}:{tag}", f"docker://{self.registry}/{REPOSITORY}:{tag}"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr

    def verify(self, digest: str, trusted: Path) -> subprocess.CompletedProcess[str]:
        """Pull by digest under a policy that admits only images signed by `trusted`."""
        policy = self.tmp / "policy.json"
        policy.write_text(json.dumps({
            "default": [{"type": "reject"}],
            "transports": {"docker": {f"{self.registry}/getprospa": [
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": str(trusted)}
            ]}},
        }))  # fmt: skip
        out = self.tmp / f"pulled-{digest[7:19]}-{time.monotonic_ns()}"
        return subprocess.run(
            [self.skopeo, "copy", "--quiet", "--remove-signatures", "--policy", str(policy),
             "--src-tls-verify=false",
             "--registries.d", str(self.registries_d),
             f"docker://{self.registry}/{REPOSITORY}@{digest}", f"oci:{out}:pulled"],
            capture_output=True, text=True,
        )  # fmt: skip

    def signature_dir(self, digest: str) -> Path:
        return self.lookaside / f"{REPOSITORY}@{digest.replace(':', '=')}"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'storage'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [require("docker-registry"), "serve", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        else:
            pytest.fail("docker-registry did not answer on its port")
        chain = Chain(tmp_path, port)
        try:
            yield chain
        finally:
            chain.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_signed_image_and_sbom_verify_and_tampered_digests_are_refused(chain: Chain) -> None:
    signer = chain.key("publisher")
    stranger = chain.key("stranger")
    image = _image(
        chain.tmp / "image", COMMIT,
        {"app/requirements.lock": LOCK.read_bytes(), "app/serve": b"#!/bin/sh\nexec gunicorn\n"},
    )  # fmt: skip
    chain.push(chain.tmp / "image", COMMIT, signer)

    # The registry holds exactly the bytes that were signed: the digest is the same.
    raw = subprocess.run(
        [chain.skopeo, "inspect", "--raw", "--tls-verify=false",
         f"docker://{chain.registry}/{REPOSITORY}:{COMMIT}"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == image
    assert (chain.signature_dir(image) / "signature-1").is_file()

    # The SBOM: CycloneDX JSON of the image's locked dependencies, pushed under cosign's
    # tag for the image's SBOM and signed by the same key.
    sbom_file = chain.tmp / "sbom.cdx.json"
    subprocess.run(
        [str(tool_venv_bin("cyclonedx", "cyclonedx-py")), "requirements", str(LOCK),
         "--of", "JSON", "--output-reproducible", "-o", str(sbom_file)],
        check=True, capture_output=True,
    )  # fmt: skip
    sbom = json.loads(sbom_file.read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    names = {c["name"].lower() for c in sbom["components"]}
    assert {"flask", "gunicorn"} <= names, sorted(names)
    sbom_tag = image.replace(":", "-") + ".sbom"
    sbom_image = _image(chain.tmp / "sbom", sbom_tag, {"sbom.cdx.json": sbom_file.read_bytes()})
    chain.push(chain.tmp / "sbom", sbom_tag, signer)

    # The policy admits the signed image and its signed SBOM, by digest.
    for digest in (image, sbom_image):
        ok = chain.verify(digest, trusted=signer[2])
        assert ok.returncode == 0, ok.stderr

    # An unsigned digest in the same repository is refused...
    tampered = _image(
        chain.tmp / "tampered", "tampered",
        {"app/requirements.lock": LOCK.read_bytes(), "app/serve": b"#!/bin/sh\nexec evil\n"},
    )  # fmt: skip
    chain.push(chain.tmp / "tampered", "tampered", signer=None)
    refused = chain.verify(tampered, trusted=signer[2])
    assert refused.returncode != 0 and "signature" in refused.stderr.lower(), refused.stderr
    # ...so is the good signature copied onto it (it signs the other digest)...
    moved = chain.signature_dir(tampered)
    moved.mkdir(parents=True)
    (moved / "signature-1").write_bytes((chain.signature_dir(image) / "signature-1").read_bytes())
    refused = chain.verify(tampered, trusted=signer[2])
    assert refused.returncode != 0 and "digest" in refused.stderr.lower(), refused.stderr
    # ...and a digest signed by a key the policy does not trust.
    (moved / "signature-1").unlink()
    chain.push(chain.tmp / "tampered", "tampered", signer=stranger)
    assert (moved / "signature-1").is_file()
    refused = chain.verify(tampered, trusted=signer[2])
    assert refused.returncode != 0, refused.stderr
    # The same image is admitted when that key is the trusted one: the refusal was the key's.
    assert chain.verify(tampered, trusted=stranger[2]).returncode == 0
