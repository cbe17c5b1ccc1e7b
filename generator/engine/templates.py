"""Template versions: where the template set comes from and what version it is.

A `TemplateSet` is a plain, read-only snapshot of one version of the template
set (the template paths of releases.toml: copier.yml, templates/, schema/) in a
temporary folder. Rendering always reads from a snapshot, never from a live git
checkout, so a run cannot see half-edited templates and copier never clones per
unit.

The version recorded in every answers file (`_commit`) is the release tag,
`v<version>`; `_src_path` is the template repository's stable location, kept
as recorded unless the user passes --src-path. A release is found by its tag
or, where tags did not travel (a clean clone), through the release record
(releases.toml, generator/releases.py). See docs/adr/0002-template-updates.md
and docs/releasing.md.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from packaging.version import Version

from .. import __version__
from ..paths import data_root, history_bundle, release_record_path
from ..releases import (
    RecordError,
    ReleaseRecord,
    commit_tree_hash,
    exclude_patterns,
    excluder,
    iter_files,
    load_record,
    parse_record,
    release_tag,
    tag_version,
)
from .errors import EngineError
from .gitutil import git, git_bytes, is_repo_root

DEFAULT_TEMPLATE_URL = "https://github.com/platformgen/platformgen.git"


def template_url() -> str:
    """The stable location recorded as `_src_path`; PLATFORMGEN_TEMPLATE_URL overrides it."""
    return os.environ.get("PLATFORMGEN_TEMPLATE_URL", DEFAULT_TEMPLATE_URL)


def current_ref() -> str:
    return release_tag(__version__)


@cache
def own_record() -> ReleaseRecord:
    """The release record this platformgen carries (releases.toml)."""
    try:
        return load_record(release_record_path())
    except RecordError as exc:
        raise EngineError(str(exc), "reinstall platformgen, or restore releases.toml") from None


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
    if not (source / "copier.yml").is_file():
        raise EngineError(
            f"{source} is not a platformgen template set (no copier.yml at its root)",
            "point --templates at the platformgen repository",
        )
    skip = excluder(exclude_patterns(source / "copier.yml"))
    for rel, path in iter_files(source, own_record().paths, skip):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=False)


def _extract_tree(archive: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def _order(ref: str) -> tuple[int, Version | str]:
    version = tag_version(ref)
    return (1, version) if version is not None else (0, ref)


def newer(ref: str, than: str) -> bool:
    """True when both are release tags and `ref` is a later version than `than`."""
    a, b = tag_version(ref), tag_version(than)
    return a is not None and b is not None and a > b


class TemplateSource:
    """A git repository (local path, URL or bundle) holding template versions.

    A version is found by its release tag, or through the source's own release
    record (releases.toml at its HEAD), which names the commit and the tree of
    every release: a clone without tags still has every release.
    """

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
                try:
                    git("clone", "--quiet", "--bare", "--", self.location, str(tmp / "repo.git"))
                except EngineError as exc:
                    raise EngineError(
                        f"cannot read the template repository {self.location}: {exc.message}",
                        "pass --templates a git repository: a local path, a URL or a git bundle",
                    ) from None
                self._repo = tmp / "repo.git"
        return self._repo

    @cached_property
    def record(self) -> ReleaseRecord | None:
        text = git("show", "HEAD:releases.toml", cwd=self.repo, check=False)
        if not text.strip():
            return None
        try:
            return parse_record(text, f"{self.location}: releases.toml")
        except RecordError as exc:
            raise EngineError(str(exc), "fix the template repository's releases.toml") from None

    @property
    def paths(self) -> tuple[str, ...]:
        return self.record.paths if self.record else own_record().paths

    def _commit(self, ref: str) -> str | None:
        out = git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", cwd=self.repo, check=False)
        return out.strip() or None

    def resolve(self, ref: str) -> str | None:
        """The commit holding version `ref` here, checked against the release record; None if absent."""
        release = self.record.by_tag(ref) if self.record else None
        tagged = self._commit(ref)
        if release is None:
            return tagged
        commit = tagged or self._commit(release.commit)
        if commit is None:
            return None
        try:
            tree = commit_tree_hash(self.repo, commit, self.paths)
        except RecordError as exc:
            raise EngineError(str(exc)) from None
        if tree != release.tree:
            what = f"the tag {ref}" if tagged else f"commit {release.commit}"
            raise EngineError(
                f"{self.location}: {what} holds templates {tree}, but releases.toml records "
                f"{release.tree} for {release.version}",
                "a release's templates never change: fix the tag or the record (docs/releasing.md)",
            )
        return commit

    def versions(self) -> list[str]:
        """Every release this source holds, as tags: its release tags and its recorded releases."""
        found = {t for t in git("tag", "--list", cwd=self.repo).split() if tag_version(t)}
        if self.record:
            found.update(r.tag for r in self.record.releases if self._commit(r.commit))
        return sorted(found, key=lambda t: tag_version(t) or Version("0"))

    def latest(self) -> str:
        tags = self.versions()
        stable = [t for t in tags if not (tag_version(t) or Version("0")).is_prerelease] or tags
        if not stable:
            raise EngineError(
                f"{self.location} has no release (no v<version> tag, no releases.toml entry)",
                "pass --template-ref, or record a release (docs/releasing.md)",
            )
        return stable[-1]

    def snapshot(self, ref: str, src_path: str) -> TemplateSet:
        commit = self.resolve(ref)
        if commit is None:
            raise EngineError(
                f"template version {ref} is not in {self.location}",
                "pass --templates with a repository that has this version "
                "(a v<version> tag, or a releases.toml entry whose commit it holds)",
            )
        listed = git("ls-tree", "--name-only", commit, cwd=self.repo).split()
        archive = git_bytes(
            "archive",
            "--format=tar",
            commit,
            "--",
            *[item for item in self.paths if item in listed],
            cwd=self.repo,
        )
        dest = Path(
            self._stack.enter_context(tempfile.TemporaryDirectory(prefix="platformgen-tpl-"))
        )
        _extract_tree(archive, dest)
        if not (dest / "copier.yml").is_file():
            raise EngineError(f"{self.location} at {ref} has no copier.yml at its root")
        return TemplateSet(root=dest, ref=ref, src_path=src_path)


def bundled(stack: ExitStack, src_path: str | None = None) -> TemplateSet:
    """The template set this platformgen carries, as a snapshot."""
    dest = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="platformgen-tpl-")))
    _copy_snapshot(data_root(), dest)
    return TemplateSet(root=dest, ref=current_ref(), src_path=src_path or template_url())


def open_templates(
    stack: ExitStack, location: str | None, ref: str | None, src_path: str | None = None
) -> TemplateSet:
    """The template set to render with: the bundled one, or `ref` (default: newest) of `location`.

    `src_path` is what answers files record as the stable source (default:
    `template_url()`); `--templates` only says where to read the templates now.
    """
    if location is None:
        if ref in (None, current_ref()):
            return bundled(stack, src_path)
        # Another version: from the history this platformgen carries, if it has it.
        for source in history_sources(stack, None, None):
            if source.resolve(ref) is not None:
                return source.snapshot(ref, src_path=src_path or template_url())
        raise EngineError(
            f"this platformgen carries template version {current_ref()}, and its history "
            f"has no {ref}",
            "pass --templates with the template repository to use another version",
        )
    source = TemplateSource(location, stack)
    return source.snapshot(ref or source.latest(), src_path=src_path or template_url())


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
        try:
            if source.resolve(ref) is not None:
                return source.snapshot(ref, src_path=recorded or current.src_path)
            tried.append(source.location)
        except EngineError as exc:
            tried.append(f"{source.location} ({exc.message})")
    raise EngineError(
        f"template version {ref}, which this repository was rendered with, was not found "
        f"(looked in: {', '.join(tried) or 'nowhere'})",
        "pass --templates with the template repository (a path, URL or git bundle) that has "
        f"{ref}: a {ref} tag, or a full clone whose releases.toml records it",
    )


def version_mismatch(recorded: list[str], target: str) -> EngineError:
    """Why `render` refuses a repository rendered with other template versions, and what to do."""
    ahead = sorted((r for r in recorded if newer(r, target)), key=_order)
    behind = sorted((r for r in recorded if r not in ahead), key=_order)
    if ahead:
        return EngineError(
            f"the repository was rendered with templates {', '.join(ahead)}, newer than the "
            f"{target} this platformgen carries",
            f"upgrade platformgen to a release that carries {ahead[-1]} (for example "
            "`pipx upgrade platformgen`), or pass --templates with a template repository that "
            f"has it and --template-ref {ahead[-1]}; `platformgen update` would move the "
            "repository back and is refused without --allow-downgrade",
        )
    return EngineError(
        f"the repository was rendered with templates {', '.join(behind)}, "
        f"and this platformgen carries {target}",
        "run `platformgen update` to move to the new templates with a 3-way merge",
    )


def refuse_downgrade(recorded: list[str], target: str, allowed: bool) -> None:
    """Stop an update that would move a unit to an older template version, unless allowed."""
    ahead = sorted({r for r in recorded if newer(r, target)}, key=_order)
    if ahead and not allowed:
        raise EngineError(
            f"the repository was rendered with templates {', '.join(ahead)}, newer than "
            f"{target}: updating would move it back to older templates",
            f"upgrade platformgen (or pass --templates and --template-ref {ahead[-1]}); "
            "pass --allow-downgrade only if you mean to go back",
        )
