"""Build hook: ship the template set and every released template version, or fail the build.

What makes a template version, the release record and the tag rule come from
releases.toml and generator/releases.py (loaded here by path: the package is not
installed while it builds). For every build:

- the template paths (copier.yml, templates/, schema/, without the tool caches
  copier.yml's `_exclude` lists) and releases.toml are copied in: the wheel
  carries them under generator/_data/, the sdist at its root;
- when the version being built is a recorded release, its templates must be
  exactly the recorded tree: templates changed after a release need a new version;
  an unreleased version must be newer than every release;
- every recorded release goes into a git bundle (one commit per release, holding
  only its template paths, tagged v<version>), so `platformgen update` finds old
  versions offline. The wheel ships it as generator/_data/history.bundle; the
  sdist carries it as history.bundle, for the wheel built from it. It is built
  from the git history (a full clone: tags are not needed, the record names the
  commits); a release whose commit is missing or whose templates differ from the
  record fails the build, never silently ships without history.

See docs/releasing.md and docs/adr/0002-template-updates.md.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SDIST_BUNDLE = "history.bundle"
WHEEL_DATA = "generator/_data"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "platformgen release",
    "GIT_AUTHOR_EMAIL": "release@platformgen.invalid",
    "GIT_COMMITTER_NAME": "platformgen release",
    "GIT_COMMITTER_EMAIL": "release@platformgen.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class ReleaseBuildError(RuntimeError):
    """The build cannot ship the template history the release record promises."""


def load_releases(root: Path) -> ModuleType:
    """generator/releases.py of the tree being built, without importing the package."""
    name = "_platformgen_build_releases"
    spec = importlib.util.spec_from_file_location(name, root / "generator" / "releases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        check=False,
        env={**os.environ, **_GIT_ENV, **(env or {})},
    )
    if proc.returncode != 0:
        raise ReleaseBuildError(
            f"git {' '.join(args)} failed in {cwd}: {proc.stderr.decode(errors='replace').strip()}"
        )
    return proc.stdout


def _has_commit(repo: Path, rev: str) -> bool:
    return (
        subprocess.run(
            ["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )


def stage_templates(rel: ModuleType, root: Path, record: Any, dest: Path) -> str:
    """Copy the template paths of `root` into `dest`, without caches; return their tree hash."""
    skip = rel.excluder(rel.exclude_patterns(root / "copier.yml"))
    for relpath, path in rel.iter_files(root, record.paths, skip):
        target = dest / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=False)
    tree: str = rel.tree_hash(dest, record.paths, skip)
    return tree


def check_version(rel: ModuleType, record: Any, version: str, tree: str) -> None:
    """A released version ships exactly its recorded templates; an unreleased one is newer."""
    from packaging.version import Version

    release = record.get(version)
    if release is not None:
        if release.tree != tree:
            raise ReleaseBuildError(
                f"the templates differ from release {version} (releases.toml records tree "
                f"{release.tree}, these are {tree}): a released version never changes; set "
                "the next version in generator/__init__.py (docs/releasing.md)"
            )
        return
    newer = [r.version for r in record.releases if Version(r.version) >= Version(version)]
    if newer:
        raise ReleaseBuildError(
            f"version {version} is not recorded in releases.toml but is not newer than "
            f"release {newer[-1]}; set a version above every release in generator/__init__.py"
        )


def build_history_bundle(rel: ModuleType, root: Path, record: Any, bundle: Path) -> list[str]:
    """Write a bundle with one commit per recorded release, from `root`'s git history."""
    for release in record.releases:
        if not _has_commit(root, release.commit):
            raise ReleaseBuildError(
                f"release {release.version}: commit {release.commit} is not in {root} "
                "(a shallow clone? run `git fetch --unshallow`; a wrong commit in releases.toml?)"
            )
        tree = rel.commit_tree_hash(root, release.commit, record.paths)
        if tree != release.tree:
            raise ReleaseBuildError(
                f"release {release.version}: commit {release.commit} holds templates {tree}, "
                f"but releases.toml records {release.tree}"
            )
        if _has_commit(root, release.tag):
            tagged = rel.commit_tree_hash(root, release.tag, record.paths)
            if tagged != release.tree:
                raise ReleaseBuildError(
                    f"release {release.version}: the tag {release.tag} holds templates {tagged}, "
                    f"not the recorded {release.tree}; fix the tag (docs/releasing.md)"
                )
    with tempfile.TemporaryDirectory(prefix="platformgen-history-") as tmp:
        work = Path(tmp)
        _git("init", "--quiet", "--initial-branch=history", cwd=work)
        for release in record.releases:
            for item in work.iterdir():
                if item.name == ".git":
                    continue
                if item.is_dir():
                    shutil.rmtree(item)
                else:
                    item.unlink()
            listed = _git("ls-tree", "--name-only", release.commit, cwd=root).decode().split()
            items = [i for i in record.paths if i in listed]
            archive = _git("archive", "--format=tar", release.commit, "--", *items, cwd=root)
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(work, filter="data")
            # The release commit's own date: the same record builds the same commits.
            date = _git("log", "-1", "--format=%cI", release.commit, cwd=root).decode().strip()
            dated = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
            _git("add", "--all", cwd=work)
            _git(
                "commit", "--quiet", "--allow-empty", "-m", f"templates {release.tag}",
                cwd=work, env=dated,
            )  # fmt: skip
            built = _git("rev-parse", "HEAD^{tree}", cwd=work).decode().strip()
            if built != release.tree:
                raise ReleaseBuildError(
                    f"release {release.version}: the bundled templates are tree {built}, "
                    f"not the recorded {release.tree}"
                )
            _git("tag", release.tag, cwd=work)
        _git("bundle", "create", str(bundle), "--all", cwd=work)
    return [r.tag for r in record.releases]


def verify_bundle(record: Any, bundle: Path) -> None:
    """Check that a prebuilt bundle (an sdist's) holds every release with its recorded tree."""
    with tempfile.TemporaryDirectory(prefix="platformgen-history-") as tmp:
        work = Path(tmp)
        _git("init", "--quiet", "--bare", cwd=work)
        _git("fetch", "--quiet", str(bundle), "refs/tags/*:refs/tags/*", cwd=work)
        for release in record.releases:
            if not _has_commit(work, release.tag):
                raise ReleaseBuildError(f"{bundle} has no release {release.tag}")
            tree = _git("rev-parse", f"{release.tag}^{{tree}}", cwd=work).decode().strip()
            if tree != release.tree:
                raise ReleaseBuildError(
                    f"{bundle}: {release.tag} holds templates {tree}, not the recorded {release.tree}"
                )


class HistoryBundleHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name not in ("wheel", "sdist") or version == "editable":
            return  # an editable install reads the checkout itself (generator/paths.py)
        root = Path(self.root)
        rel = load_releases(root)
        record = rel.load_record(root / rel.RECORD_FILE)
        self._tmp = tempfile.mkdtemp(prefix="platformgen-build-")
        staged = Path(self._tmp) / "data"
        prefix = f"{WHEEL_DATA}/" if self.target_name == "wheel" else ""
        force = build_data["force_include"]
        if record.releases:
            bundle = Path(self._tmp) / "history.bundle"
            if (root / ".git").exists():
                build_history_bundle(rel, root, record, bundle)
            elif (root / SDIST_BUNDLE).is_file() and (root / "PKG-INFO").is_file():
                verify_bundle(record, root / SDIST_BUNDLE)
                shutil.copyfile(root / SDIST_BUNDLE, bundle)
            else:
                raise ReleaseBuildError(
                    f"cannot bundle the {len(record.releases)} recorded template release(s): "
                    f"{root} has no git history and no {SDIST_BUNDLE}; build from a full git "
                    "clone (tags are not needed) or from an sdist built by one"
                )
            force[str(bundle)] = f"{WHEEL_DATA}/history.bundle" if prefix else SDIST_BUNDLE
        tree = stage_templates(rel, root, record, staged)
        check_version(rel, record, self.metadata.version, tree)
        for item in sorted(p.name for p in staged.iterdir()):
            force[str(staged / item)] = prefix + item
        force[str(root / rel.RECORD_FILE)] = prefix + rel.RECORD_FILE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
