"""What the CLI does: new, render, update, diff and check of a generated repository."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pathspec
import yaml

from ..spec import SpecResult, load_spec
from .apply import apply_operations
from .errors import EngineError
from .gitutil import dirty_paths, init_and_commit, is_repo_root
from .plan import Plan, plan_unit, read_current
from .render import Files, render_all
from .templates import (
    TemplateSet,
    find_version,
    open_templates,
    refuse_downgrade,
    template_url,
    version_mismatch,
)
from .units import Unit, load_areas, plan_units

SPEC_FILE = "platform.yaml"
_SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache"}
_ANSWERS_FILE = re.compile(r"^\.copier-answers\.([a-z][a-z0-9-]{0,30})\.yml$")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class SpecInvalidError(Exception):
    """The spec has errors; nothing was rendered or written."""

    def __init__(self, result: SpecResult) -> None:
        super().__init__(f"{result.file} has {len(result.errors)} error(s)")
        self.result = result


@dataclass(frozen=True)
class RecordedUnit:
    """A unit as the repository's answers file records it."""

    area: str
    key: str
    dest: PurePosixPath
    commit: str
    src_path: str
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.area}:{self.key}" if self.key else self.area

    def as_unit(self) -> Unit:
        return Unit(
            area=self.area,
            key=self.key,
            dest=self.dest,
            answers={"area": self.area, "key": self.key, "spec": self.spec},
        )


@dataclass
class UnitStatus:
    id: str
    dest: str
    status: str
    files: int = 0


@dataclass
class SyncResult:
    plan: Plan
    units: list[UnitStatus]
    template_ref: str
    written: bool


@dataclass(frozen=True)
class Drift:
    """One difference `check` found: where, why, a stable code, and the unit it belongs to."""

    path: str
    reason: str
    code: str
    unit: str = ""


@dataclass
class CheckResult:
    drift: list[Drift] = field(default_factory=list)
    # Differences in files the spec's localChanges lists: reported, never drift.
    allowed: list[Drift] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    template_ref: str = ""
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.drift


def load_valid_spec(path: Path) -> dict[str, Any]:
    result = load_spec(path)
    if not result.ok or result.resolved is None:
        raise SpecInvalidError(result)
    return result.resolved


def find_recorded_units(repo: Path) -> dict[str, RecordedUnit]:
    """Every platformgen answers file in the repository, by unit id."""
    found: dict[str, RecordedUnit] = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            match = _ANSWERS_FILE.match(name)
            if not match:
                continue
            area = match.group(1)
            path = Path(dirpath) / name
            rel = path.relative_to(repo).as_posix()
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise EngineError(
                    f"{rel} is not readable YAML: {exc}",
                    "restore it from git (answers files are machine-written)",
                ) from None
            if not isinstance(data, dict) or data.get("area") != area or "spec" not in data:
                continue  # another copier template's answers, not a platformgen unit
            recorded = RecordedUnit(
                area=area,
                key=str(data.get("key") or ""),
                dest=PurePosixPath(Path(dirpath).relative_to(repo).as_posix()),
                commit=str(data.get("_commit", "")),
                src_path=str(data.get("_src_path", "")),
                spec=data["spec"],
            )
            found[recorded.id] = recorded
    return found


def _require_clean(repo: Path) -> None:
    if not is_repo_root(repo):
        return
    dirty = dirty_paths(repo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise EngineError(
            f"the repository has uncommitted changes ({shown})",
            "commit or stash them first, so the update can be reviewed and undone with git; "
            "or pass --allow-dirty",
        )


def new(
    spec_path: Path,
    out: Path,
    *,
    templates: str | None = None,
    ref: str | None = None,
    src_path: str | None = None,
    progress: Progress = _quiet,
) -> SyncResult:
    """Render a new repository into `out`, git-initialised with a first commit.

    Answers files record `src_path` as the stable template source (default:
    `template_url()`), whatever `templates` the files are read from now.
    """
    spec = load_valid_spec(spec_path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EngineError(
            f"{out} already exists and is not empty",
            "choose a new folder, or use `platformgen render` inside an existing repository",
        )
    with ExitStack() as stack:
        target = open_templates(stack, templates, ref, src_path)
        units = plan_units(spec, load_areas(target.root))
        progress(f"rendering {len(units)} units with templates {target.ref}")
        rendered = render_all(target, units)
    parent = out.absolute().parent
    created_parents = [p for p in [parent, *parent.parents] if not p.exists()]
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.platformgen-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        plan = Plan()
        for unit in units:
            plan_unit(plan, staging, unit.id, None, rendered[unit.id], unit.answers_file.as_posix())
        if any(c.path == SPEC_FILE for c in plan.changes):
            raise EngineError(f"a template generates {SPEC_FILE}, which belongs to the user")
        apply_operations(staging, plan.operations())
        shutil.copyfile(spec_path, staging / SPEC_FILE)
        init_and_commit(
            staging, f"Render {spec['project']['name']} with platformgen templates {target.ref}"
        )
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created_parents:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    statuses = [UnitStatus(u.id, u.dest.as_posix(), "created", len(rendered[u.id])) for u in units]
    return SyncResult(plan=plan, units=statuses, template_ref=target.ref, written=True)


def sync(
    repo: Path,
    *,
    update: bool,
    spec_path: Path | None = None,
    templates: str | None = None,
    ref: str | None = None,
    allow_dirty: bool = False,
    dry_run: bool = False,
    allow_downgrade: bool = False,
    src_path: str | None = None,
    progress: Progress = _quiet,
) -> SyncResult:
    """Bring the repository to its spec (render) and, with update, to a newer template version.

    An update to an older template version than a unit records is refused unless
    `allow_downgrade`. Answers files keep the `_src_path` they record unless
    `src_path` is given.
    """
    repo = repo.resolve()
    spec = load_valid_spec(spec_path or repo / SPEC_FILE)
    recorded = find_recorded_units(repo)
    if not dry_run and not allow_dirty:
        _require_clean(repo)
    with ExitStack() as stack:
        target = open_templates(stack, templates, ref)
        units = plan_units(spec, load_areas(target.root))
        recorded_refs = sorted({r.commit for r in recorded.values()})
        if not update:
            stale = [r for r in recorded_refs if r != target.ref]
            if stale:
                raise version_mismatch(stale, target.ref)
        else:
            refuse_downgrade(recorded_refs, target.ref, allow_downgrade)
        sources = src_paths(recorded, units, src_path)
        statuses: list[UnitStatus] = []
        todo: list[Unit] = []
        for unit in units:
            before = recorded.get(unit.id)
            if (
                before
                and before.commit == target.ref
                and before.src_path == sources[unit.id]
                and before.as_unit().answers == unit.answers
            ):
                statuses.append(UnitStatus(unit.id, unit.dest.as_posix(), "unchanged"))
            else:
                todo.append(unit)
        progress(f"rendering {len(todo)} of {len(units)} units with templates {target.ref}")
        new_files = render_all(target, todo, sources) if todo else {}
        base_files = _render_bases(
            stack, [recorded[u.id] for u in todo if u.id in recorded], target, templates, progress
        )
        plan = Plan()
        for unit in todo:
            before = recorded.get(unit.id)
            plan_unit(
                plan,
                repo,
                unit.id,
                base_files.get(unit.id),
                new_files[unit.id],
                unit.answers_file.as_posix(),
            )
            changed = [c for c in plan.changes if c.unit == unit.id]
            status = "created" if before is None else ("updated" if changed else "unchanged")
            if any(c.kind == "conflict" for c in changed):
                status = "conflicts"
            statuses.append(UnitStatus(unit.id, unit.dest.as_posix(), status, len(changed)))
        wanted = {u.id for u in units}
        for unit_id, before in sorted(recorded.items()):
            if unit_id not in wanted:
                statuses.append(UnitStatus(unit_id, before.dest.as_posix(), "removed from spec"))
                plan.notes.append(
                    f"{before.dest.as_posix()}/: unit {unit_id} is no longer in the spec; its files were "
                    "left in place. Delete the folder when you no longer need it."
                )
    if not dry_run and plan.changes:
        apply_operations(repo, plan.operations())
    order = {u.id: i for i, u in enumerate(units)}
    statuses.sort(key=lambda s: (order.get(s.id, len(order)), s.id))
    return SyncResult(plan=plan, units=statuses, template_ref=target.ref, written=not dry_run)


def src_paths(
    recorded: dict[str, RecordedUnit], units: list[Unit], explicit: str | None
) -> dict[str, str]:
    """The `_src_path` each unit's answers file gets: `explicit`, else what it records.

    A unit new to the repository takes the source most of its units record (the
    stable template URL when none does).
    """
    if explicit:
        return {u.id: explicit for u in units}
    kept = [r.src_path for r in recorded.values() if r.src_path]
    default = max(sorted(set(kept)), key=kept.count) if kept else template_url()
    return {
        u.id: (recorded[u.id].src_path if u.id in recorded and recorded[u.id].src_path else default)
        for u in units
    }


def _render_bases(
    stack: ExitStack,
    recorded: list[RecordedUnit],
    target: TemplateSet,
    explicit: str | None,
    progress: Progress,
) -> dict[str, Files]:
    """Render each recorded unit as it was last rendered: its answers, its template version."""
    out: dict[str, Files] = {}
    by_commit: dict[str, list[RecordedUnit]] = {}
    for r in recorded:
        by_commit.setdefault(r.commit, []).append(r)
    for commit, group in sorted(by_commit.items()):
        templates = find_version(stack, commit, target, explicit, group[0].src_path)
        progress(f"rendering the base of {len(group)} units with templates {commit}")
        out.update(render_all(templates, [r.as_unit() for r in group]))
    return out


def check(
    repo: Path,
    *,
    spec_path: Path | None = None,
    templates: str | None = None,
    ref: str | None = None,
    progress: Progress = _quiet,
) -> CheckResult:
    """Compare the repository with what its spec and template version render."""
    repo = repo.resolve()
    spec = load_valid_spec(spec_path or repo / SPEC_FILE)
    recorded = find_recorded_units(repo)
    result = CheckResult()
    allowed = pathspec.PathSpec.from_lines("gitwildmatch", spec["localChanges"])
    with ExitStack() as stack:
        target = open_templates(stack, templates, ref)
        units = plan_units(spec, load_areas(target.root))
        result.template_ref = target.ref
        for r in recorded.values():
            if r.commit != target.ref:
                result.drift.append(
                    Drift(
                        r.dest.as_posix(),
                        f"rendered with templates {r.commit}, not {target.ref}",
                        "check.template-version",
                        r.id,
                    )
                )
        progress(f"rendering {len(units)} units with templates {target.ref}")
        rendered = render_all(target, units, src_paths(recorded, units, None))
    for unit in units:
        if unit.id not in recorded:
            result.drift.append(
                Drift(
                    unit.dest.as_posix(),
                    f"unit {unit.id} is in the spec but not rendered",
                    "check.unit-missing",
                    unit.id,
                )
            )
        for path, expected in sorted(rendered[unit.id].items()):
            result.files_checked += 1
            current = read_current(repo, path)
            if current == expected:
                continue
            if current is None:
                found = Drift(path, "missing", "check.missing", unit.id)
            elif current.content != expected.content:
                found = Drift(path, "content differs", "check.content", unit.id)
            else:
                found = Drift(path, "executable bit differs", "check.mode", unit.id)
            (result.allowed if allowed.match_file(path) else result.drift).append(found)
    wanted = {u.id for u in units}
    for unit_id, r in sorted(recorded.items()):
        if unit_id not in wanted:
            result.drift.append(
                Drift(
                    r.dest.as_posix(),
                    f"unit {unit_id} is no longer in the spec",
                    "check.unit-removed",
                    unit_id,
                )
            )
    return result
