"""Template releases: what a template version is made of, the release record, tree hashes.

This module is the one source of three contracts:

- **what makes a template version**: the paths listed as `template-paths` in
  `releases.toml` (copier.yml, templates/, schema/), at the repository root; the
  wheel ships exactly those under generator/_data/, and the history bundle holds
  exactly those per release;
- **the release tag rule**: release `X` is tagged `vX`, where `X` is a PEP 440
  version (`release_tag`, `tag_version`);
- **what is never part of a template version**: the tool caches listed in
  copier.yml's `_exclude` (copier needs them there, so copier.yml is their source;
  `exclude_patterns` reads them).

`releases.toml` records every release: its version, the commit whose template
paths it is, and `tree`, the git tree id of a tree holding exactly those paths,
so a release can be found and checked without tags (a clean clone has none) and
a build can prove it bundles the right files. See docs/releasing.md.

hatch_build.py loads this file by path at build time, before the package is
installed: keep its imports to the standard library, packaging, pathspec and
PyYAML (all build requirements in pyproject.toml), and no relative imports.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

RECORD_FILE = "releases.toml"
TAG_PREFIX = "v"
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


class RecordError(ValueError):
    """The release record is malformed, or a release cannot be found or verified."""


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    tree: str

    @property
    def tag(self) -> str:
        return release_tag(self.version)


@dataclass(frozen=True)
class ReleaseRecord:
    paths: tuple[str, ...]
    releases: tuple[Release, ...]

    def get(self, version: str) -> Release | None:
        wanted = Version(version)
        return next((r for r in self.releases if Version(r.version) == wanted), None)

    def by_tag(self, tag: str) -> Release | None:
        version = tag_version(tag)
        return None if version is None else self.get(str(version))


def release_tag(version: str) -> str:
    """The tag (and the `_commit` an answers file records) of a version: `v<version>`."""
    return f"{TAG_PREFIX}{version}"


def tag_version(tag: str) -> Version | None:
    """The version a release tag names, or None when `tag` is not a release tag."""
    if not tag.startswith(TAG_PREFIX):
        return None
    try:
        return Version(tag.removeprefix(TAG_PREFIX))
    except InvalidVersion:
        return None


def parse_record(text: str, source: str = RECORD_FILE) -> ReleaseRecord:
    """Read and check a release record (the text of releases.toml)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecordError(f"{source} is not valid TOML: {exc}") from None
    unknown = set(data) - {"template-paths", "release"}
    if unknown:
        raise RecordError(f"{source}: unknown keys {sorted(unknown)}")
    paths = data.get("template-paths")
    if (
        not isinstance(paths, list)
        or not paths
        or not all(isinstance(p, str) and p and "/" not in p and p != ".." for p in paths)
        or len(set(paths)) != len(paths)
    ):
        raise RecordError(
            f"{source}: template-paths must be a list of distinct top-level file or folder names"
        )
    releases: list[Release] = []
    for i, entry in enumerate(data.get("release", [])):
        where = f"{source}: release #{i + 1}"
        if not isinstance(entry, dict) or set(entry) != {"version", "commit", "tree"}:
            raise RecordError(f"{where} must have exactly version, commit and tree")
        version, commit, tree = entry["version"], entry["commit"], entry["tree"]
        try:
            parsed = Version(str(version))
        except InvalidVersion:
            raise RecordError(f"{where}: {version!r} is not a PEP 440 version") from None
        if str(parsed) != version:
            raise RecordError(f"{where}: write the version as {str(parsed)!r}")
        if parsed.is_devrelease or parsed.local:
            raise RecordError(f"{where}: {version} is a development or local version")
        for name, value in (("commit", commit), ("tree", tree)):
            if not isinstance(value, str) or not _HEX40.match(value):
                raise RecordError(f"{where}: {name} must be a full 40-character git object id")
        if releases and Version(releases[-1].version) >= parsed:
            raise RecordError(
                f"{where}: versions must increase ({releases[-1].version}, {version})"
            )
        releases.append(Release(version, commit, tree))
    return ReleaseRecord(paths=tuple(paths), releases=tuple(releases))


def load_record(path: Path) -> ReleaseRecord:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"cannot read the release record {path}: {exc.strerror}") from None
    return parse_record(text, str(path))


def exclude_patterns(copier_yml: Path) -> tuple[str, ...]:
    """The tool caches that are never part of a template version: copier.yml's `_exclude`."""
    import yaml  # a build requirement too; imported here so tomllib-only users need not load it

    config = yaml.safe_load(copier_yml.read_text(encoding="utf-8"))
    patterns = config.get("_exclude", []) if isinstance(config, dict) else []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise RecordError(f"{copier_yml}: _exclude must be a list of patterns")
    return tuple(patterns)


def excluder(patterns: Iterable[str]) -> Callable[[str, bool], bool]:
    """A test `(relative posix path, is_dir) -> excluded`, with copier's gitignore rules."""
    import pathspec

    spec = pathspec.PathSpec.from_lines("gitignore", list(patterns))

    def excluded(rel: str, is_dir: bool) -> bool:
        return bool(spec.match_file(rel + "/" if is_dir else rel))

    return excluded


def iter_files(
    root: Path, paths: Iterable[str], exclude: Callable[[str, bool], bool]
) -> list[tuple[str, Path]]:
    """Every file of a template version under `root`: (relative posix path, absolute path)."""
    found: list[tuple[str, Path]] = []
    for top in paths:
        start = root / top
        if start.is_symlink() or start.is_file():
            if not exclude(top, False):
                found.append((top, start))
            continue
        if not start.is_dir() or exclude(top, True):
            continue
        for dirpath, dirnames, filenames in os.walk(start):
            here = Path(dirpath)
            rel_dir = here.relative_to(root).as_posix()
            kept = []
            for d in sorted(dirnames):
                if (here / d).is_symlink():
                    filenames.append(d)  # a symlink to a folder is a file to git
                elif not exclude(f"{rel_dir}/{d}", True):
                    kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}"
                if not exclude(rel, False):
                    found.append((rel, here / name))
    return sorted(found)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _tree_id(entries: dict[str, tuple[str, str]]) -> str:
    """Git tree id of {name: (mode, object id)}; modes as git writes them (40000 for trees)."""

    def order(name: str) -> bytes:
        mode = entries[name][0]
        return (name + "/" if mode == "40000" else name).encode()

    body = b"".join(
        f"{entries[name][0]} {name}".encode() + b"\0" + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=order)
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def _nested_tree_id(files: dict[str, tuple[str, str]]) -> str:
    """Tree id of {relative posix path: (mode, blob id)}, building the subtrees."""
    children: dict[str, dict[str, tuple[str, str]]] = {}
    entries: dict[str, tuple[str, str]] = {}
    for rel, entry in files.items():
        head, _, rest = rel.partition("/")
        if rest:
            children.setdefault(head, {})[rest] = entry
        else:
            entries[head] = entry
    for name, sub in children.items():
        entries[name] = ("40000", _nested_tree_id(sub))
    return _tree_id(entries)


def tree_hash(root: Path, paths: Iterable[str], exclude: Callable[[str, bool], bool]) -> str:
    """The git tree id of a tree holding exactly the template paths of `root`, as files on disk.

    Equal to `commit_tree_hash` of a commit with the same files (git keeps only the
    executable bit of a file's mode), so a checkout, an installed wheel and a git
    commit can be compared without git.
    """
    files: dict[str, tuple[str, str]] = {}
    for rel, path in iter_files(root, paths, exclude):
        if path.is_symlink():
            files[rel] = ("120000", _blob_id(str(path.readlink()).encode()))
        else:
            executable = bool(path.stat().st_mode & stat.S_IXUSR)
            files[rel] = ("100755" if executable else "100644", _blob_id(path.read_bytes()))
    if not files:
        raise RecordError(f"{root} holds none of the template paths {', '.join(paths)}")
    return _nested_tree_id(files)


def commit_tree_hash(repo: Path, commit: str, paths: Iterable[str]) -> str:
    """The git tree id of a tree holding exactly the template paths of `commit` in `repo`."""
    proc = subprocess.run(
        ["git", "ls-tree", "-z", f"{commit}^{{commit}}", "--", *paths],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip()
        raise RecordError(f"commit {commit} is not in {repo}: {detail}")
    entries: dict[str, tuple[str, str]] = {}
    for line in proc.stdout.decode().split("\0"):
        if not line:
            continue
        meta, name = line.split("\t", 1)
        mode, _kind, oid = meta.split()
        if "/" in name:
            continue  # ls-tree lists top-level entries only; defensive
        entries[name] = (mode.lstrip("0") or "0", oid)
    if not entries:
        raise RecordError(f"commit {commit} in {repo} holds none of {', '.join(paths)}")
    return _tree_id(entries)
