"""The committed provider lock file: in every Terraform folder, accepted as it is.

Every root (the bootstrap, each environment) and every module of the templates commits
`.terraform.lock.hcl` for hashicorp/aws. What it holds is provable here:

- the `h1:` hash is that of the provider's linux_amd64 package, computed from the offline
  mirror (Terraform's dirhash: the SHA-256 of the sorted "<sha256>  <file>" lines of the
  unpacked package), and `terraform init` itself accepts it without rewriting the file;
- the `zh:` hashes are the lines of the provider's signed SHA256SUMS: one per platform
  zip, plus the release manifest, whose hash is reproduced here from its known content.
  The zips cannot be downloaded here; docs/terraform.md names the public lock files the
  set was taken from (written by `terraform providers lock` for every platform) and that
  they agree exactly.

A lock file that is missing, differs between folders, names other constraints than the
configuration, or whose h1 does not match the mirror fails here; so does an init that
rewrites it (tests/support/terraform.py fails every init that does).
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from support.terraform import PROVIDER, PROVIDER_VERSION, Terraform

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
LOCK = ".terraform.lock.hcl"
REFERENCE_INFRA = ROOT / "examples" / "getprospa" / "repo" / "infra"
# terraform-provider-aws_<version>_manifest.json of every release (protocol 5.0).
MANIFEST = '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["5.0"]\n  }\n}'
# linux_amd64 is the only package on this machine; the other 13 platforms' zips
# (darwin, freebsd, linux, windows and so on) are in SHA256SUMS, hence in the zh: set.
PLATFORM_ZIPS = 14


def terraform_folders(base: Path) -> list[Path]:
    """Every folder of `base` with Terraform configuration (a root or a module)."""
    return sorted(
        {p.parent for p in base.rglob("versions.tf") if ".terraform" not in p.parts}
        | {
            p.parent
            for p in base.rglob("*.tf")
            if p.name == "main.tf" and ".terraform" not in p.parts
        }
    )


def template_folders() -> list[Path]:
    return terraform_folders(TEMPLATES / "terraform") + terraform_folders(
        TEMPLATES / "terraform-env"
    )


def dirhash(folder: Path) -> str:
    """Terraform's h1: hash of an unpacked provider package (golang.org/x/mod dirhash Hash1)."""
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}\n"
        for p in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix())
        if p.is_file()
    )
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


def parse(text: str) -> dict[str, dict[str, object]]:
    """provider address -> version, constraints and hashes of a lock file."""
    providers = {}
    for match in re.finditer(r'provider "([^"]+)" \{(.*?)\n\}', text, re.S):
        body = match[2]
        version = re.search(r'version\s*=\s*"([^"]+)"', body)
        constraints = re.search(r'constraints\s*=\s*"([^"]+)"', body)
        providers[match[1]] = {
            "version": version[1] if version else None,
            "constraints": constraints[1] if constraints else None,
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }
    return providers


def the_lock() -> tuple[bytes, dict[str, object]]:
    locks = {
        folder: (folder / LOCK).read_bytes()
        for folder in template_folders()
        if (folder / LOCK).is_file()
    }
    assert locks, "no lock file in templates/"
    content = next(iter(locks.values()))
    return content, parse(content.decode())[PROVIDER]


def test_every_terraform_folder_commits_the_same_lock_file() -> None:
    folders = template_folders()
    assert len(folders) >= 3, folders
    missing = [str(f.relative_to(TEMPLATES)) for f in folders if not (f / LOCK).is_file()]
    assert not missing, f"{LOCK} missing in {missing}: copy templates/terraform-env/{LOCK}"
    contents = {(f / LOCK).read_bytes() for f in folders}
    assert len(contents) == 1, "the lock files differ between folders"


def test_the_lock_names_the_configured_provider_and_constraint() -> None:
    content, aws = the_lock()
    assert list(parse(content.decode())) == [PROVIDER], "only hashicorp/aws is used"
    assert aws["version"] == PROVIDER_VERSION
    constraints = {
        m[1]
        for f in template_folders()
        for m in re.finditer(
            r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"([^"]+)"',
            (f / "versions.tf").read_text(),
        )
    }
    # Terraform does not rewrite a stale `constraints`, so nothing else would catch it.
    assert constraints == {aws["constraints"]}, constraints


def test_the_h1_hash_is_the_mirrors_package(terraform: Terraform) -> None:
    _, aws = the_lock()
    package = terraform.mirror / PROVIDER / PROVIDER_VERSION / terraform.platform
    h1 = [h for h in aws["hashes"] if str(h).startswith("h1:")]
    assert h1 == [dirhash(package)], f"the lock's h1 {h1} is not the mirror's {dirhash(package)}"


def test_the_zh_hashes_are_a_complete_sha256sums() -> None:
    _, aws = the_lock()
    zh = [str(h)[3:] for h in aws["hashes"] if str(h).startswith("zh:")]
    assert zh == sorted(zh) and len(set(zh)) == len(zh), "Terraform writes them sorted, once each"
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in zh)
    assert len(zh) == PLATFORM_ZIPS + 1, (
        f"{len(zh)} zh: hashes; SHA256SUMS has {PLATFORM_ZIPS} zips + the manifest"
    )
    assert hashlib.sha256(MANIFEST.encode()).hexdigest() in zh, (
        "the release manifest's line is missing"
    )


def test_the_dirhash_is_terraforms_own(terraform: Terraform, tmp_path: Path) -> None:
    """Terraform, given no lock file, records exactly the h1 computed above."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(TEMPLATES / "terraform-env" / "versions.tf", root / "versions.tf")
    result = terraform.init(root)
    assert result.ok, result.describe()
    recorded = parse((root / LOCK).read_text())[PROVIDER]["hashes"]
    assert recorded == [
        dirhash(terraform.mirror / PROVIDER / PROVIDER_VERSION / terraform.platform)
    ]


@pytest.fixture(scope="module")
def reference_infra(tmp_path_factory: pytest.TempPathFactory) -> Path:
    infra = tmp_path_factory.mktemp("lock") / "infra"
    shutil.copytree(REFERENCE_INFRA, infra, ignore=shutil.ignore_patterns(".terraform"))
    return infra


@pytest.mark.parametrize("folder", ["bootstrap", "envs/prod", "modules/network"])
def test_init_accepts_the_lock_unchanged_and_refuses_a_wrong_h1(
    folder: str, terraform: Terraform, reference_infra: Path
) -> None:
    root = reference_infra / folder
    committed = (root / LOCK).read_bytes()
    accepted = terraform.init(root)  # the harness fails an init that rewrites the lock file
    assert accepted.ok, accepted.describe()
    assert (
        "Reusing previous version of hashicorp/aws from the dependency lock file" in accepted.stdout
    )
    assert (root / LOCK).read_bytes() == committed

    shutil.rmtree(root / ".terraform")
    h1 = next(h for h in parse(committed.decode())[PROVIDER]["hashes"] if str(h).startswith("h1:"))
    try:
        (root / LOCK).write_text(committed.decode().replace(str(h1), "h1:" + "A" * 43 + "="))
        refused = terraform.init(root)
    finally:
        (root / LOCK).write_bytes(committed)
    assert not refused.ok
    assert "doesn't match any of the checksums previously recorded" in " ".join(
        refused.stderr.split()
    )


def test_the_rendered_reference_commits_the_lock_in_every_folder() -> None:
    infra = REFERENCE_INFRA
    content, _ = the_lock()
    folders = terraform_folders(infra)
    assert {infra / "bootstrap", infra / "envs" / "prod"} <= set(folders)
    assert all((f / LOCK).read_bytes() == content for f in folders), "run `make reference`"
