"""Template versions: where the template set comes from and what version it is.

A `TemplateSet` is a plain, read-only snapshot of one version of the template
set (copier.yml + templates/ + schema/) in a temporary folder. Rendering always
reads from a snapshot, never from a live git checkout, so a run cannot see
half-edited templates and copier never clones per unit.

The version recorded in every answers file (`_commit`) is the release tag,
`v<version>`; `_src_path` is the template repository's stable location. See
docs/adr/0002-template-updates.md for how `update` finds older versions.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .. import __version__
from ..paths import data_root, history_bundle
from .errors import EngineError
from .gitutil import git, git_bytes, is_repo_root

DEFAULT_TEMPLATE_URL = "https://github.com/platformgen/platformgen.git"
_SNAPSHOT_ITEMS = ("copier.yml", "templates", "schema")
# Tool caches in a working copy of the templates are never part of a template version.
_CACHES = (
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".venv",
    ".DS_Store",
)


def template_url() -> str:
    """The stable location recorded as `_src_path`; PLATFORMGEN_TEMPLATE_URL overrides it."""
    return os.environ.get("PLATFORMGEN_TEMPLATE_URL", DEFAULT_TEMPLATE_URL)


def current_ref() -> str:
    return f"v{__version__}"


@dataclass(frozen=True)
class TemplateSet:
    root: Path
    ref: str
    src_path: str

    @property
    def meta(self) -> dict[str, str]:
        """What platformgen passes to the templates' answers file (see copier.yml)."""
        return {"commit": self.ref, "src_path": self.src_path}


def _copy_snapshot(source: Path, dest: Path) -> None:
    for item in _SNAPSHOT_ITEMS:
        src = source / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns(*_CACHES))
        elif src.is_file():
            shutil.copy2(src, dest / item)
    if not (dest / "copier.yml").is_file():
        raise EngineError(
            f"{source} is not a platformgen template set (no copier.yml at its root)",
            "point --templates at the platformgen repository",
        )


def _extract_tree(archive: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def _is_version_tag(tag: str) -> bool:
    try:
        Version(tag)
    except InvalidVersion:
        return False
    return True


class TemplateSource:
    """A git repository (local path, URL or bundle) holding tagged template versions."""

    def __init__(self, location: str, stack: ExitStack) -> None:
        self.location = location
        self._stack = stack
        self._repo: Path | None = None

    @property
    def repo(self) -> Path:
        if self._repo is None:
            local = Path(self.location).expanduser()
            if local.is_dir() and is_repo_root(local):
                self._repo = local.resolve()
            else:
                tmp = Path(
                    self._stack.enter_context(
                        tempfile.TemporaryDirectory(prefix="platformgen-src-")
                    )
                )
                git("clone", "--quiet", "--bare", "--", self.location, str(tmp / "repo.git"))
                self._repo = tmp / "repo.git"
        return self._repo

    def has_ref(self, ref: str) -> bool:
        out = git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", cwd=self.repo, check=False)
        return bool(out.strip())

    def latest_tag(self) -> str:
        tags = [t for t in git("tag", "--list", cwd=self.repo).split() if _is_version_tag(t)]
        stable = [t for t in tags if not Version(t).is_prerelease] or tags
        if not stable:
            raise EngineError(
                f"{self.location} has no PEP 440 version tags",
                "tag a template release (for example: git tag v0.2.0) or pass --template-ref",
            )
        return max(stable, key=Version)

    def snapshot(self, ref: str, src_path: str | None = None) -> TemplateSet:
        if not self.has_ref(ref):
            raise EngineError(
                f"template version {ref} is not in {self.location}",
                "pass --templates with a repository that has this tag",
            )
        archive = git_bytes(
            "archive",
            "--format=tar",
            f"{ref}^{{commit}}",
            "--",
            *_existing(self, ref),
            cwd=self.repo,
        )
        dest = Path(
            self._stack.enter_context(tempfile.TemporaryDirectory(prefix="platformgen-tpl-"))
        )
        _extract_tree(archive, dest)
        if not (dest / "copier.yml").is_file():
            raise EngineError(f"{self.location} at {ref} has no copier.yml at its root")
        return TemplateSet(root=dest, ref=ref, src_path=src_path or self.location)


def _existing(source: TemplateSource, ref: str) -> list[str]:
    listed = git("ls-tree", "--name-only", f"{ref}^{{commit}}", cwd=source.repo).split()
    return [item for item in _SNAPSHOT_ITEMS if item in listed]


def bundled(stack: ExitStack) -> TemplateSet:
    """The template set this platformgen carries, as a snapshot."""
    dest = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="platformgen-tpl-")))
    _copy_snapshot(data_root(), dest)
    return TemplateSet(root=dest, ref=current_ref(), src_path=template_url())


def open_templates(stack: ExitStack, location: str | None, ref: str | None) -> TemplateSet:
    """The template set to render with: the bundled one, or `ref` (default: newest tag) of `location`."""
    if location is None:
        if ref not in (None, current_ref()):
            raise EngineError(
                f"this platformgen carries template version {current_ref()}, not {ref}",
                "pass --templates with the template repository to use another version",
            )
        return bundled(stack)
    source = TemplateSource(location, stack)
    return source.snapshot(ref or source.latest_tag(), src_path=_normalise(location))


def _normalise(location: str) -> str:
    local = Path(location).expanduser()
    return str(local.resolve()) if local.exists() else location


def history_sources(
    stack: ExitStack, explicit: str | None, recorded: str | None
) -> list[TemplateSource]:
    """Where older template versions can be found, in the order `update` tries them."""
    locations: list[str] = []
    if explicit:
        locations.append(explicit)
    bundle = history_bundle()
    if bundle is not None:
        locations.append(str(bundle))
    root = data_root()
    if is_repo_root(root):
        locations.append(str(root))
    if recorded and recorded not in locations:
        locations.append(recorded)
    return [TemplateSource(loc, stack) for loc in dict.fromkeys(locations)]


def find_version(
    stack: ExitStack, ref: str, current: TemplateSet, explicit: str | None, recorded: str | None
) -> TemplateSet:
    """The template set at `ref`, for rendering the base of a 3-way merge."""
    if ref == current.ref:
        return current
    tried: list[str] = []
    for source in history_sources(stack, explicit, recorded):
        tried.append(source.location)
        try:
            if source.has_ref(ref):
                return source.snapshot(ref, src_path=current.src_path)
        except EngineError:
            continue
    raise EngineError(
        f"template version {ref}, which this repository was rendered with, was not found "
        f"(looked in: {', '.join(tried) or 'nowhere'})",
        "pass --templates with the template repository (a path, URL or git bundle) that has "
        f"the tag {ref}",
    )
