"""What the CLI does: new, render, update, diff and check of a generated repository."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pathspec
import yaml

from ..spec import SpecResult, load_spec
from .apply import WriteInterrupted, apply_operations
from .errors import EngineError
from .gitutil import dirty_paths, init_and_commit
from .journal import locked, recover, try_lock
from .plan import Plan, plan_unit, read_current
from .renames import file_moves, files_under
from .render import Files, render_all
from .templates import (
    TemplateSet,
    find_version,
    newer,
    open_templates,
    refuse_downgrade,
    template_url,
    version_mismatch,
)
from .units import Area, Unit, load_areas, plan_units

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

    def keyed(self, unit: Unit) -> Unit:
        """These answers rendered under another unit's key and destination (see renames.py)."""
        return Unit(
            area=self.area,
            key=unit.key,
            dest=unit.dest,
            answers={"area": self.area, "key": unit.key, "spec": self.spec},
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


@dataclass(frozen=True)
class Drift:
    """One difference `check` found: in which unit, where, what (with a stable code), the fix."""

    unit: str
    path: str
    reason: str
    code: str
    fix: str = ""


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
    dirty = dirty_paths(repo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise EngineError(
            f"the repository has uncommitted changes ({shown})",
            "commit or stash them first, so the update can be reviewed and undone with git; "
            "or pass --allow-dirty",
        )


@contextmanager
def _repository(repo: Path, notice: Progress) -> Iterator[None]:
    """Hold the repository's lock, and first finish a write a killed command left half done."""
    if not repo.is_dir():
        yield  # nothing to lock or recover; the spec's absence is reported next
        return
    with locked(repo):
        try:
            message = recover(repo)
        except KeyboardInterrupt:
            raise WriteInterrupted(
                "the write it was finishing is still journaled; the next platformgen command "
                "in the repository finishes it"
            ) from None
        except OSError as exc:
            raise EngineError(
                f"cannot complete the interrupted platformgen write in {repo}: "
                f"{exc.strerror or exc} ({exc.filename})",
                "fix the permissions or free space, then run again; the journal is kept",
            ) from exc
        if message:
            notice(f"note: {message}")
        yield


_STAGING = re.compile(r"^\..+\.platformgen-[A-Za-z0-9_]+$")
_STAGING_MARK = ".platformgen-staging"


def _check_output_parent(out: Path, parent: Path) -> None:
    """Refuse, before rendering, an output folder that cannot be created where it is."""
    for folder in [parent, *parent.parents]:
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise EngineError(
                f"cannot create {out}: {folder} is a file, not a folder",
                "choose an output path whose parent folders are folders",
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise EngineError(
                f"cannot create {out}: {folder} is not writable",
                "choose an output folder you can write to",
            )
        return


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _sweep_staging(parent: Path, notice: Progress) -> None:
    """Remove the staging folders that killed `new` commands left in `parent`.

    A staging folder is ours when its name has our pattern and it holds our
    marker (or nothing at all: killed before the marker was written), and dead
    when nobody holds its lock.
    """
    if not parent.is_dir():
        return
    for folder in sorted(parent.iterdir()):
        if not _STAGING.match(folder.name) or folder.is_symlink() or not folder.is_dir():
            continue
        if not (folder / _STAGING_MARK).is_file() and any(folder.iterdir()):
            continue
        fd = try_lock(folder)
        if fd is None:
            continue  # a `new` that is running
        try:
            shutil.rmtree(folder)
        finally:
            os.close(fd)
        notice(f"note: removed {folder}, left by an interrupted `platformgen new`")


def new(
    spec_path: Path,
    out: Path,
    *,
    templates: str | None = None,
    ref: str | None = None,
    src_path: str | None = None,
    progress: Progress = _quiet,
    notice: Progress = _quiet,
) -> SyncResult:
    """Render a new repository into `out`, git-initialised with a first commit.

    Answers files record `src_path` as the stable template source (default:
    `template_url()`), whatever `templates` the files are read from now.
    Everything is built in a staging folder beside `out` and renamed into place,
    so `out` appears whole or not at all; a staging folder left by a killed run
    is removed by the next `new` in the same folder.
    """
    spec = load_valid_spec(spec_path)
    parent = out.absolute().parent
    _check_output_parent(out, parent)
    _sweep_staging(parent, notice)
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
    created_parents = [p for p in [parent, *parent.parents] if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.platformgen-", dir=parent))
    except OSError as exc:
        _remove_empty(created_parents)
        raise EngineError(
            f"cannot create {out}: {exc.strerror or exc}",
            "choose an output folder you can write to",
        ) from None
    lock = try_lock(staging)
    if lock is None:  # another `new` took it for a stale one in the instant it was empty
        shutil.rmtree(staging, ignore_errors=True)
        raise EngineError(
            f"another platformgen new is cleaning up in {parent}", "run the command again"
        )
    try:
        (staging / _STAGING_MARK).write_text(
            f"platformgen new -o {out.name} (pid {os.getpid()}); removed by the next "
            "`platformgen new` once that process is gone\n"
        )
        tree = staging / "tree"
        tree.mkdir()
        plan = Plan()
        for unit in units:
            plan_unit(plan, tree, unit.id, None, rendered[unit.id], unit.answers_file.as_posix())
        if any(c.path == SPEC_FILE for c in plan.changes):
            raise EngineError(f"a template generates {SPEC_FILE}, which belongs to the user")
        apply_operations(tree, plan.operations(), journal=False)
        shutil.copyfile(spec_path, tree / SPEC_FILE)
        init_and_commit(
            tree, f"Render {spec['project']['name']} with platformgen templates {target.ref}"
        )
        if out.exists():
            out.rmdir()
        tree.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created_parents)
        raise
    finally:
        os.close(lock)
    shutil.rmtree(staging, ignore_errors=True)  # only the marker is left in it
    statuses = [UnitStatus(u.id, u.dest.as_posix(), "created", len(rendered[u.id])) for u in units]
    return SyncResult(plan=plan, units=statuses, template_ref=target.ref)


@dataclass(frozen=True)
class _Rename:
    """An app unit that moves: `old` is recorded under the app's previous name."""

    old: RecordedUnit
    new: Unit


def _app_areas(areas: tuple[Area, ...]) -> set[str]:
    return {a.name for a in areas if a.scope == "app"}


def _renames(
    spec: dict[str, Any],
    areas: tuple[Area, ...],
    units: list[Unit],
    recorded: dict[str, RecordedUnit],
    notes: list[str],
) -> dict[str, _Rename]:
    """The units of renamed apps (`renamedFrom`) whose old files are still to move, by new id."""
    app_areas = _app_areas(areas)
    renamed_from = {a["name"]: a["renamedFrom"] for a in spec["apps"] if a.get("renamedFrom")}
    out: dict[str, _Rename] = {}
    for unit in units:
        old_key = renamed_from.get(unit.key)
        if unit.area not in app_areas or old_key is None:
            continue
        old = recorded.get(f"{unit.area}:{old_key}")
        if old is None:
            continue
        if unit.id in recorded:
            raise EngineError(
                f"app {unit.key} is renamed from {old_key}, but both {old.dest}/ (unit {old.id}) "
                f"and {recorded[unit.id].dest}/ (unit {unit.id}) are rendered",
                f"keep one: delete {recorded[unit.id].dest}/ to move {old.dest}/ there with your "
                f"edits, or delete {old.dest}/ and remove renamedFrom",
            )
        out[unit.id] = _Rename(old, unit)
    for new_name, old_key in sorted(renamed_from.items()):
        if not any(r.area in app_areas and r.key == old_key for r in recorded.values()):
            notes.append(
                f"app {new_name}: nothing rendered for its old name {old_key} is left in the "
                f"repository; remove `renamedFrom: {old_key}` from platform.yaml"
            )
    return out


def _move_plan(
    repo: Path,
    rename: _Rename,
    old_files: Files,
    keyed_files: Files,
    others: list[PurePosixPath],
) -> dict[str, str]:
    """New path -> old path of every file of a renamed app's unit, checked for clashes.

    The user's own files move too when the old folder is the unit's alone (`others` are
    the folders of the other units).
    """
    old, unit = rename.old, rename.new
    own: list[str] = []
    if _owns_folder(old.dest, others):
        own, _ = files_under(repo, old.dest, _SKIP_DIRS)
    moves = file_moves(
        old_key=old.key,
        new_key=unit.key,
        old_dest=old.dest,
        new_dest=unit.dest,
        old_render=old_files,
        keyed_render=keyed_files,
        own_files=own,
    )
    moves = {new: src for new, src in moves.items() if (repo / src).is_file() or new != src}
    sources = set(moves.values())
    for target, source in sorted(moves.items()):
        if target == source:
            continue
        if target in sources or (repo / target).exists() or (repo / target).is_symlink():
            raise EngineError(
                f"app {unit.key} is renamed from {old.key}, but {target} is already there "
                f"(it would receive {source})",
                f"move {target} away (or delete it), then run again",
            )
    return moves


def sync(
    repo: Path,
    *,
    update: bool = False,
    spec_path: Path | None = None,
    templates: str | None = None,
    ref: str | None = None,
    allow_dirty: bool = False,
    dry_run: bool = False,
    allow_downgrade: bool = False,
    src_path: str | None = None,
    progress: Progress = _quiet,
    notice: Progress = _quiet,
) -> SyncResult:
    """Bring the repository to its spec (render) and, with update, to a newer template version.

    An update to an older template version than a unit records is refused unless
    `allow_downgrade`. Answers files keep the `_src_path` they record unless
    `src_path` is given.
    """
    repo = repo.resolve()
    with _repository(repo, notice):
        return _sync(
            repo,
            update=update,
            spec_path=spec_path,
            templates=templates,
            ref=ref,
            allow_dirty=allow_dirty,
            dry_run=dry_run,
            allow_downgrade=allow_downgrade,
            src_path=src_path,
            progress=progress,
        )


def _sync(
    repo: Path,
    *,
    update: bool,
    spec_path: Path | None,
    templates: str | None,
    ref: str | None,
    allow_dirty: bool,
    dry_run: bool,
    allow_downgrade: bool,
    src_path: str | None,
    progress: Progress,
) -> SyncResult:
    spec = load_valid_spec(spec_path or repo / SPEC_FILE)
    recorded = find_recorded_units(repo)
    if not dry_run and not allow_dirty:
        _require_clean(repo)
    plan = Plan()
    with ExitStack() as stack:
        target = open_templates(stack, templates, ref)
        areas = load_areas(target.root)
        units = plan_units(spec, areas)
        recorded_refs = sorted({r.commit for r in recorded.values()})
        if not update:
            stale = [r for r in recorded_refs if r != target.ref]
            if stale:
                raise version_mismatch(stale, target.ref)
        else:
            refuse_downgrade(recorded_refs, target.ref, allow_downgrade)
        sources = src_paths(recorded, units, src_path)
        renames = _renames(spec, areas, units, recorded, plan.notes)
        moved_from = {r.old.id for r in renames.values()}
        wanted = {u.id for u in units}
        removed = [
            r for i, r in sorted(recorded.items()) if i not in wanted and i not in moved_from
        ]
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
        jobs = [(u.id, recorded[u.id], recorded[u.id].as_unit()) for u in todo if u.id in recorded]
        for unit_id, rename in renames.items():
            jobs.append((unit_id, rename.old, rename.old.as_unit()))
            keyed = rename.old.keyed(rename.new)
            jobs.append((f"{unit_id} (new key)", rename.old, keyed))
        base_files = _render_bases(stack, jobs, target, templates, progress)
        gone = _render_removed(stack, removed, target, templates)
        for unit in todo:
            before = recorded.get(unit.id)
            rename = renames.get(unit.id)
            moves = None
            if rename is not None:
                moves = _move_plan(
                    repo,
                    rename,
                    base_files[unit.id],
                    base_files[f"{unit.id} (new key)"],
                    _other_dests(rename.old, recorded, [u for u in units if u.id != unit.id]),
                )
            plan_unit(
                plan,
                repo,
                unit.id,
                _at_new_paths(base_files.get(unit.id), moves),
                new_files[unit.id],
                unit.answers_file.as_posix(),
                moves,
            )
            changed = [c for c in plan.changes if c.unit == unit.id]
            if rename is not None:
                status = f"renamed from {rename.old.dest.as_posix()}"
            elif before is None:
                status = "created"
            else:
                status = "updated" if changed else "unchanged"
            if any(c.kind == "conflict" for c in changed):
                status = "conflicts"
            statuses.append(UnitStatus(unit.id, unit.dest.as_posix(), status, len(changed)))
        for rename in renames.values():
            _, left = (
                files_under(repo, rename.old.dest, _SKIP_DIRS)
                if rename.old.dest.parts
                else ([], [])
            )
            if left:
                plan.notes.append(
                    f"{rename.old.dest.as_posix()}/: {', '.join(left[:5])} did not move with app "
                    f"{rename.new.key} (tool folders and symlinks stay); delete them when you no "
                    "longer need them"
                )
        for r in removed:
            statuses.append(UnitStatus(r.id, r.dest.as_posix(), "removed from spec"))
            plan.notes.append(
                f"unit {r.id} is no longer in the spec; its files were left in place: "
                + _removal_advice(repo, r, gone.get(r.id), areas, _other_dests(r, recorded, units))
            )
    if not dry_run and plan.changes:
        apply_operations(repo, plan.operations())
    order = {u.id: i for i, u in enumerate(units)}
    statuses.sort(key=lambda s: (order.get(s.id, len(order)), s.id))
    return SyncResult(plan=plan, units=statuses, template_ref=target.ref)


def _at_new_paths(base: Files | None, moves: dict[str, str] | None) -> Files | None:
    """A renamed unit's base, keyed by where its files go."""
    if base is None or moves is None:
        return base
    by_source = {source: target for target, source in moves.items()}
    return {by_source.get(path, path): data for path, data in base.items()}


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
    jobs: list[tuple[str, RecordedUnit, Unit]],
    target: TemplateSet,
    explicit: str | None,
    progress: Progress,
) -> dict[str, Files]:
    """Render units as they were last rendered: recorded answers, recorded template version.

    Each job is (label, the recorded unit, the unit to render with its template version).
    """
    out: dict[str, Files] = {}
    by_commit: dict[str, list[tuple[str, RecordedUnit, Unit]]] = {}
    for job in jobs:
        by_commit.setdefault(job[1].commit, []).append(job)
    for commit, group in sorted(by_commit.items()):
        templates = find_version(stack, commit, target, explicit, group[0][1].src_path)
        progress(f"rendering the base of {len(group)} units with templates {commit}")
        for label, _, unit in group:
            out[label] = render_all(templates, [unit])[unit.id]
    return out


def _render_removed(
    stack: ExitStack, removed: list[RecordedUnit], target: TemplateSet, explicit: str | None
) -> dict[str, Files]:
    """What units no longer in the spec last rendered, where their template version is at hand."""
    out: dict[str, Files] = {}
    for r in removed:
        try:
            out.update(_render_bases(stack, [(r.id, r, r.as_unit())], target, explicit, _quiet))
        except EngineError:
            continue  # the advice then names the unit's folder only
    return out


def _owns_folder(dest: PurePosixPath, others: list[PurePosixPath]) -> bool:
    """Whether `dest` is a unit's own folder: not the root, and no other unit renders in it."""
    return bool(dest.parts) and not any(d == dest or dest in d.parents for d in others)


def _other_dests(
    r: RecordedUnit, recorded: dict[str, RecordedUnit], units: list[Unit]
) -> list[PurePosixPath]:
    return [x.dest for x in recorded.values() if x.id != r.id] + [u.dest for u in units]


def _removal_advice(
    repo: Path,
    r: RecordedUnit,
    files: Files | None,
    areas: tuple[Area, ...],
    others: list[PurePosixPath],
) -> str:
    """What to do about a unit that is no longer in the spec: exactly what to delete.

    `others` are the folders of every other unit, recorded or planned.
    """
    scope = next((a.scope for a in areas if a.name == r.area), None)
    restore = {
        "app": f"or put app {r.key} back in platform.yaml; if it was renamed, add "
        f"`renamedFrom: {r.key}` to the app's new entry and run `platformgen render` to move "
        "its files with your edits",
        "environment": f"or put environment {r.key} back in platform.yaml",
    }.get(scope or "", "or put it back in platform.yaml")
    if scope == "environment":
        restore += (
            f"; if environment {r.key} still runs, destroy it first (`terraform -chdir="
            f"{r.dest.as_posix()} destroy`): its folder holds the only configuration of it"
        )
    if _owns_folder(r.dest, others):
        on_disk, _ = files_under(repo, r.dest, _SKIP_DIRS)
        yours = sorted(set(on_disk) - set(files or {}))
        kept = ""
        if files is not None and yours:
            shown = ", ".join(yours[:3]) + (f" and {len(yours) - 3} more" if len(yours) > 3 else "")
            kept = f" (it also holds {len(yours)} file(s) of yours: {shown}; keep what you need)"
        return (
            f"delete its folder with `git rm -r {r.dest.as_posix()}/`{kept} when you no longer "
            f"need it, {restore}"
        )
    if files is None:
        return f"delete the files unit {r.id} generated when you no longer need them, {restore}"
    existing = sorted(p for p in files if (repo / p).is_file())
    if not existing:
        return f"nothing of it is left; {restore}"
    shown = _collapse(repo, existing)
    listed = " ".join(shown[:8]) + (f" (and {len(shown) - 8} more)" if len(shown) > 8 else "")
    return f"delete its files with `git rm -r {listed}` when you no longer need them, {restore}"


def _collapse(repo: Path, files: list[str]) -> list[str]:
    """Files, with every folder that holds nothing else shown as the folder."""
    owned = set(files)
    folders = sorted(
        {p.as_posix() for f in files for p in PurePosixPath(f).parents if p.parts},
        key=lambda d: (d.count("/"), d),
    )
    whole: list[str] = []
    for folder in folders:
        if any(folder.startswith(w + "/") for w in whole):
            continue
        on_disk, left = files_under(repo, PurePosixPath(folder), _SKIP_DIRS)
        if not left and all(p in owned for p in on_disk):
            whole.append(folder)
    out = [f"{w}/" for w in whole]
    out += [f for f in files if not any(f.startswith(w + "/") for w in whole)]
    return sorted(out)


def check(
    repo: Path,
    *,
    spec_path: Path | None = None,
    templates: str | None = None,
    ref: str | None = None,
    progress: Progress = _quiet,
    notice: Progress = _quiet,
) -> CheckResult:
    """Compare the repository with what its spec and template version render."""
    repo = repo.resolve()
    with _repository(repo, notice):
        return _check(repo, spec_path=spec_path, templates=templates, ref=ref, progress=progress)


def _check(
    repo: Path,
    *,
    spec_path: Path | None,
    templates: str | None,
    ref: str | None,
    progress: Progress,
) -> CheckResult:
    spec = load_valid_spec(spec_path or repo / SPEC_FILE)
    recorded = find_recorded_units(repo)
    result = CheckResult()
    allowed = pathspec.PathSpec.from_lines("gitwildmatch", spec["localChanges"])
    with ExitStack() as stack:
        target = open_templates(stack, templates, ref)
        areas = load_areas(target.root)
        units = plan_units(spec, areas)
        result.template_ref = target.ref
        renames = _renames(spec, areas, units, recorded, result.notes)
        moved_from = {r.old.id for r in renames.values()}
        wanted = {u.id for u in units}
        removed = [
            r for i, r in sorted(recorded.items()) if i not in wanted and i not in moved_from
        ]
        for r in recorded.values():
            if r.commit != target.ref:
                result.drift.append(
                    Drift(
                        unit=r.id,
                        path=r.dest.as_posix(),
                        reason=f"rendered with templates {r.commit}, not {target.ref}",
                        code="check.template-version",
                        fix=(
                            f"upgrade platformgen to one that carries {r.commit}"
                            if newer(r.commit, target.ref)
                            else "run `platformgen update`"
                        ),
                    )
                )
        progress(f"rendering {len(units)} units with templates {target.ref}")
        rendered = render_all(target, units, src_paths(recorded, units, None))
        gone = _render_removed(stack, removed, target, templates)
    for unit in units:
        files = sorted(rendered[unit.id].items())
        rename = renames.get(unit.id)
        if rename is not None:
            result.files_checked += len(files)
            result.drift.append(
                Drift(
                    unit=unit.id,
                    path=unit.dest.as_posix(),
                    reason=f"app {rename.old.key} is renamed to {unit.key} (renamedFrom), and its "
                    f"files are still in {rename.old.dest.as_posix()}/",
                    code="check.unit-renamed",
                    fix=f"run `platformgen render`: it moves them, with your edits, to "
                    f"{unit.dest.as_posix()}/",
                )
            )
            continue
        if unit.id not in recorded and not any((repo / p).exists() for p, _ in files):
            result.files_checked += len(files)
            result.drift.append(
                Drift(
                    unit=unit.id,
                    path=unit.dest.as_posix(),
                    reason=f"unit {unit.id} is in the spec but not rendered",
                    code="check.unit-missing",
                    fix="run `platformgen render`",
                )
            )
            continue
        if unit.id not in recorded:
            result.drift.append(
                Drift(
                    unit=unit.id,
                    path=unit.dest.as_posix(),
                    reason=f"unit {unit.id} has no answers file",
                    code="check.unit-missing",
                    fix="run `platformgen render`",
                )
            )
        for path, expected in files:
            result.files_checked += 1
            current = read_current(repo, path)
            if current == expected:
                continue
            if current is None:
                found = Drift(unit=unit.id, path=path, reason="missing", code="check.missing")
            elif current.content != expected.content:
                found = Drift(
                    unit=unit.id, path=path, reason="content differs", code="check.content"
                )
            else:
                found = Drift(
                    unit=unit.id, path=path, reason="executable bit differs", code="check.mode"
                )
            (result.allowed if allowed.match_file(path) else result.drift).append(found)
    for r in removed:
        result.drift.append(
            Drift(
                unit=r.id,
                path=r.dest.as_posix(),
                reason=f"unit {r.id} is no longer in the spec, but its files are still here",
                code="check.unit-removed",
                fix=_removal_advice(
                    repo, r, gone.get(r.id), areas, _other_dests(r, recorded, units)
                ),
            )
        )
    return result
