"""Delivery invariants of every rendered repository (issue 12): no rendered file holds a
long-lived AWS key, and nothing deploys an image by a mutable tag."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from . import RenderedRepo, nonempty, require, validator
from .helm import charts
from .helm import pod_specs as _pod_specs

# AWS access key ids (long-lived AKIA, and the other prefixes AWS documents for key ids),
# secret keys assigned anywhere, and the Terraform resources that mint long-lived keys.
KEY_PATTERNS = {
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    "an AWS secret key": re.compile(
        r"(?i)\b(?:aws_secret_access_key|aws-secret-access-key|secretAccessKey)\b\s*[:=]"
    ),
    "a static access key input": re.compile(r"(?i)\baws-access-key-id\s*:"),
    "an IAM user access key": re.compile(r'resource\s+"aws_iam_(?:access_key|user)"'),
}
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _text_files(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        if ".git" in path.parts or ".terraform" in path.parts or not path.is_file():
            continue
        try:
            yield path, path.read_text()
        except UnicodeDecodeError:
            continue


@validator("repo")
def no_rendered_file_holds_a_long_lived_aws_key(repo: RenderedRepo) -> None:
    """CI and the executors get short-lived credentials (OIDC, CodeBuild roles): a key id,
    a secret key or an IAM user with keys in any rendered file is a defect."""
    checked = 0
    for path, text in _text_files(repo.root):
        checked += 1
        for what, pattern in KEY_PATTERNS.items():
            found = pattern.search(text)
            assert not found, f"{path.relative_to(repo.root)} holds {what}: {found.group(0)!r}"
    assert checked > 50, f"only {checked} text files rendered"


def _images(node: Any) -> Iterator[str]:
    """Every `image` string of a YAML/JSON document (Kubernetes pod specs and the like)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for item in node:
            yield from _images(item)


@validator("helm")
def every_deployed_image_is_pinned_by_digest(repo: RenderedRepo) -> None:
    """The charts as make deploy renders them pull every container by digest, and every
    Kubernetes manifest the repo applies as a file (add-ons, access) names no image by a tag
    alone. Chart templates (Go templates) are checked through their renders."""
    images = []
    for chart in charts(repo):
        for rendered in chart.renders.values():
            for manifest in rendered.manifests:
                for pod in _pod_specs(manifest):
                    for container in pod.get("initContainers", []) + pod["containers"]:
                        images.append(container["image"])
    for image in nonempty(images, "chart images"):
        assert DIGEST.search(image), f"a chart deploys {image} by tag, not by digest"
    for path, text in _text_files(repo.root):
        rel = path.relative_to(repo.root)
        # compose.yaml (local runs) builds the API images itself and pins MySQL behind an
        # override variable: tests/validators/devloop.py checks each of its images.
        if (
            "templates" in rel.parts
            or path.suffix not in (".yaml", ".yml", ".json")
            or rel.name == "compose.yaml"
        ):
            continue
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
        for image in _images(docs):
            assert DIGEST.search(image), f"{rel} names the image {image} by tag, not by digest"


# The scripts are static files, the same bytes for every spec: linting one repo covers all.
@validator("repo", only=("getprospa",))
def delivery_scripts_pass_shellcheck(repo: RenderedRepo) -> None:
    shellcheck = require("shellcheck")
    scripts = nonempty(sorted((repo.root / "delivery").glob("*.sh")), "delivery scripts")
    proc = subprocess.run(
        # SC2016: jq programs are single-quoted on purpose; SC2153: the upper-case variables
        # come from make (delivery/platform.mk exports them).
        [shellcheck, "--shell=bash", "--exclude=SC2016,SC2153", *map(str, scripts)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:]
