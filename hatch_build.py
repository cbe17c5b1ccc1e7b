"""Wheel build hook: ship the template history, so `platformgen update` works offline.

A generated repository records the template version it was rendered with. To
3-way merge it into a newer version, `platformgen update` renders the old
version again, so the wheel carries every released template version as a small
git bundle (generator/_data/history.bundle): one commit per release tag, holding
only copier.yml, templates/ and schema/. See docs/adr/0002-template-updates.md.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from packaging.version import InvalidVersion, Version

TEMPLATE_ITEMS = ("copier.yml", "templates", "schema")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "platformgen release",
    "GIT_AUTHOR_EMAIL": "release@platformgen.invalid",
    "GIT_COMMITTER_NAME": "platformgen release",
    "GIT_COMMITTER_EMAIL": "release@platformgen.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(*args: str, cwd: Path, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        check=True,
        env={**os.environ, **_GIT_ENV},
    ).stdout


def release_tags(root: Path) -> list[str]:
    tags = []
    for tag in _git("tag", "--list", "v*", cwd=root).decode().split():
        try:
            Version(tag)
        except InvalidVersion:
            continue
        tags.append(tag)
    return sorted(tags, key=Version)


def build_history_bundle(root: Path, bundle: Path) -> list[str]:
    """Write a bundle with one commit per release tag of `root`; return the tags."""
    tags = release_tags(root)
    if not tags:
        return []
    with tempfile.TemporaryDirectory(prefix="platformgen-history-") as tmp:
        work = Path(tmp)
        _git("init", "--quiet", "--initial-branch=history", cwd=work)
        for tag in tags:
            for item in work.iterdir():
                if item.name == ".git":
                    continue
                if item.is_dir():
                    shutil.rmtree(item)
                else:
                    item.unlink()
            listed = _git("ls-tree", "--name-only", f"{tag}^{{commit}}", cwd=root).decode().split()
            items = [i for i in TEMPLATE_ITEMS if i in listed]
            archive = _git("archive", "--format=tar", f"{tag}^{{commit}}", "--", *items, cwd=root)
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(work, filter="data")
            _git("add", "--all", cwd=work)
            _git("commit", "--quiet", "--allow-empty", "-m", f"templates {tag}", cwd=work)
            _git("tag", tag, cwd=work)
        _git("bundle", "create", str(bundle), "--all", cwd=work)
    return tags


class HistoryBundleHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        if not (root / ".git").exists():
            return
        bundle = Path(self.directory) / "platformgen-history.bundle"
        bundle.parent.mkdir(parents=True, exist_ok=True)
        if build_history_bundle(root, bundle):
            build_data["force_include"][str(bundle)] = "generator/_data/history.bundle"
