"""A render killed at any point of its write phase is repaired by the next command.

The CLI runs in a subprocess under tests/support/killpoint.py, which sends it
SIGKILL just before its Nth change to the repository's files (every open for
writing, rename, unlink, mkdir, rmdir, chmod). Every kill point of an update
is tried: after the next platformgen command the repository holds exactly the
old tree or exactly the new one, the user's edits included, and no journal or
temporary file is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GIT_ENV, ROOT, SPECS, TemplateRepo, copy_template_paths, git, run_cli, tree

from generator.engine.journal import try_lock

SPEC = SPECS / "small.yaml"
KILLPOINT = ROOT / "tests" / "support" / "killpoint.py"
SHARDS = 4
JOURNAL = ".platformgen-journal"


def run_killed(
    root: Path, at: int, *args: str | Path, log: Path | None = None, signal_name: str = ""
) -> subprocess.CompletedProcess[str]:
    """The CLI, killed just before its `at`-th change under `root` (0: never)."""
    env = {
        **os.environ,
        **GIT_ENV,
        "PYTHONPATH": str(ROOT),
        "KILLPOINT_ROOT": str(root),
        "KILLPOINT_AT": str(at),
    }
    if log is not None:
        env["KILLPOINT_LOG"] = str(log)
    return subprocess.run(
        [sys.executable, str(KILLPOINT), "--no-color", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )


@dataclass
class Scenario:
    """A repository on templates v1.0.0 with the user's edits, and its update to v1.1.0."""

    templates: Path
    repo: Path  # the old state; copy it before use
    old: dict[str, tuple[bytes, bool]]
    new: dict[str, tuple[bytes, bool]]
    points: list[str]  # the kill points of the update, in order
    armed: int  # the kill point that arms the journal (its rename into place)
    removed: int  # the kill point that removes the journal


def _template_change(templates: TemplateRepo) -> None:
    templates.edit(
        "templates/repo/README.md.jinja",
        lambda t: t.replace("## Layout\n", "## Layout\n\nTemplates v1.1.0 added this line.\n"),
    )
    (templates.path / "templates/repo/.editorconfig").write_text("root = true\n# v1.1.0\n")
    guide = templates.path / "templates/repo/docs/guide/GUIDE.md.jinja"
    guide.parent.mkdir(parents=True)
    guide.write_text("# {{ spec.project.name }} guide (new in v1.1.0)\n")
    (templates.path / "templates/repo/docs/README.md.jinja").unlink()
    templates.tag("v1.1.0")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    tmp = tmp_path_factory.mktemp("journal")
    templates = TemplateRepo(tmp / "templates")
    copy_template_paths(ROOT, templates.path)
    git(templates.path, "init", "--quiet", "--initial-branch=main")
    templates.tag("v1.0.0")
    repo = tmp / "old"
    proc = run_cli("new", SPEC, "-o", repo, "--templates", templates.path)
    assert proc.returncode == 0, proc.stderr
    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace("# tiny", "# tiny\n\nOur edit, kept.", 1))
    (repo / "NOTES.md").write_text("our own file\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "our edits")
    _template_change(templates)

    probe = tmp / "probe"
    shutil.copytree(repo, probe, symlinks=True)
    log = tmp / "points.log"
    proc = run_killed(probe, 0, "update", probe, "--templates", templates.path, log=log)
    assert proc.returncode == 0, proc.stderr
    points = log.read_text().splitlines()
    armed = [i + 1 for i, p in enumerate(points) if p.endswith(f"/{JOURNAL}")]
    assert armed, f"no journal was armed:\n{log.read_text()}"
    removed = [
        i + 1 for i, p in enumerate(points) if p.split()[1] == "unlink" and p.endswith(JOURNAL)
    ]
    assert removed, f"the journal was never removed:\n{log.read_text()}"
    new = tree(probe)
    old = tree(repo)
    # The update does what the kill points interrupt: edits, a new folder, a deletion.
    assert "Our edit, kept." in new["README.md"][0].decode()
    assert "Templates v1.1.0 added this line." in new["README.md"][0].decode()
    assert "docs/guide/GUIDE.md" in new and "docs/README.md" not in new
    assert new["NOTES.md"] == old["NOTES.md"]
    return Scenario(templates.path, repo, old, new, points, armed[0], removed[-1])


# The command run after the kill, and whether it may itself finish the update.
NEXT = [
    ("check",),
    ("diff", "--update"),
    ("render", "--allow-dirty"),
    ("update", "--allow-dirty"),
]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_an_update_killed_at_any_point_is_completed_or_undone_by_the_next_command(
    scenario: Scenario, tmp_path: Path, shard: int
) -> None:
    failures: list[str] = []
    for at in range(1 + shard, len(scenario.points) + 1, SHARDS):
        work = tmp_path / f"at-{at}"
        shutil.copytree(scenario.repo, work, symlinks=True)
        proc = run_killed(work, at, "update", work, "--templates", scenario.templates)
        assert proc.returncode == -signal.SIGKILL, (at, proc.stderr)
        command, *flags = NEXT[at % len(NEXT)]
        after = run_cli(command, work, *flags, "--templates", scenario.templates)
        assert "Traceback" not in after.stderr, after.stderr
        # Killed before the journal was in place, nothing was written; after, the next
        # command completes the update. `update` itself finishes it either way.
        completed = at > scenario.armed or command == "update"
        expected = scenario.new if completed else scenario.old
        if tree(work) != expected:
            state = "new" if completed else "old"
            diff = sorted(set(tree(work).items()) ^ set(expected.items()))
            failures.append(
                f"killed before {scenario.points[at - 1]!r}, then `{command}`: not the {state} "
                f"tree; differs in {sorted({p for p, _ in diff})}\n{after.stderr}"
            )
        elif scenario.armed < at <= scenario.removed and command != "update":
            # The journal was there: the command says what it found and did.
            assert "interrupted platformgen write" in after.stderr, after.stderr
    assert not failures, "\n".join(failures)


def test_a_recovery_killed_in_turn_is_completed_by_the_command_after(
    scenario: Scenario, tmp_path: Path
) -> None:
    at = (scenario.armed + len(scenario.points)) // 2
    work = tmp_path / "repo"
    shutil.copytree(scenario.repo, work, symlinks=True)
    proc = run_killed(work, at, "update", work, "--templates", scenario.templates)
    assert proc.returncode == -signal.SIGKILL
    # The recovering `check` is killed at its second change of the tree, then `diff` repairs.
    proc = run_killed(work, 2, "check", work, "--templates", scenario.templates)
    assert proc.returncode == -signal.SIGKILL
    assert (work / JOURNAL).exists()
    proc = run_cli("diff", work, "--update", "--templates", scenario.templates)
    assert "interrupted platformgen write" in proc.stderr
    assert tree(work) == scenario.new


def test_ctrl_c_in_the_write_phase_rolls_back_and_says_so(
    scenario: Scenario, tmp_path: Path
) -> None:
    """SIGINT (not a kill) half-way: the process itself rolls back, and says so."""
    work = tmp_path / "repo"
    shutil.copytree(scenario.repo, work, symlinks=True)
    # The second rename into the tree raises SIGINT in the process, as Ctrl-C would.
    code = f"""
import os, signal, sys
root = os.path.realpath({str(work)!r})
real = os.replace
seen = []
def replace(src, dst, *a, **k):
    out = real(src, dst, *a, **k)
    if os.path.realpath(dst).startswith(root + os.sep) and not str(dst).endswith({JOURNAL!r}):
        seen.append(dst)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)
    return out
os.replace = replace
from generator.cli import main
sys.exit(main(sys.argv[1:]))
"""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--no-color",
            "update",
            str(work),
            "--templates",
            str(scenario.templates),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 130, proc.stderr
    assert "interrupted while writing; every change was rolled back" in proc.stderr
    assert "nothing was written" not in proc.stderr
    assert tree(work) == scenario.old


def test_a_file_changed_after_the_kill_stops_the_repair(scenario: Scenario, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(scenario.repo, work, symlinks=True)
    proc = run_killed(work, scenario.armed + 1, "update", work, "--templates", scenario.templates)
    assert proc.returncode == -signal.SIGKILL
    (work / "README.md").write_text("edited after the kill\n")
    proc = run_cli("check", work, "--templates", scenario.templates)
    assert proc.returncode == 1
    assert "README.md changed since" in proc.stderr
    assert (work / JOURNAL).exists()
    assert (work / "README.md").read_text() == "edited after the kill\n"


def test_a_second_command_waits_for_the_first(scenario: Scenario, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(scenario.repo, work, symlinks=True)
    fd = try_lock(work)  # this test process plays the command that is running
    assert fd is not None
    try:
        proc = run_cli("update", work, "--templates", scenario.templates)
    finally:
        os.close(fd)
    assert proc.returncode == 1
    assert "another platformgen command is working in" in proc.stderr
    assert tree(work) == scenario.old


# --- new ----------------------------------------------------------------------------------------


def test_a_killed_new_leaves_a_staging_folder_that_the_next_new_removes(tmp_path: Path) -> None:
    parent = tmp_path / "out"
    parent.mkdir()
    log = tmp_path / "points.log"
    proc = run_killed(parent, 0, "new", SPEC, "-o", parent / "probe", log=log)
    assert proc.returncode == 0, proc.stderr
    expected = tree(parent / "probe")
    shutil.rmtree(parent / "probe")
    count = len(log.read_text().splitlines())
    # First change, one in the middle, and the last ones (the rename into place).
    for at in sorted({1, 2, count // 2, count - 1, count}):
        proc = run_killed(parent, at, "new", SPEC, "-o", parent / "repo")
        assert proc.returncode == -signal.SIGKILL, (at, proc.stderr)
        if (parent / "repo").exists():
            shutil.rmtree(parent / "repo")  # killed after the rename: a whole repository
        proc = run_cli("new", SPEC, "-o", parent / "repo")
        assert proc.returncode == 0, (at, proc.stderr)
        assert [p.name for p in parent.iterdir()] == ["repo"], at
        assert tree(parent / "repo") == expected
        shutil.rmtree(parent / "repo")


def test_new_leaves_running_and_foreign_staging_folders_alone(tmp_path: Path) -> None:
    running = tmp_path / ".other.platformgen-abc123"
    running.mkdir()
    (running / ".platformgen-staging").write_text("a running new\n")
    foreign = tmp_path / ".photos.platformgen-backup"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"not ours")
    fd = try_lock(running)
    assert fd is not None
    try:
        proc = run_cli("new", SPEC, "-o", tmp_path / "repo")
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    assert (running / ".platformgen-staging").exists()
    assert (foreign / "holiday.jpg").read_bytes() == b"not ours"
