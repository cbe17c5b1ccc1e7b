"""`make test` times its phases (scripts/test-phases.sh): the table prints at the end even
when a phase fails, later phases do not run, and the failing phase's status stands."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "test-phases.sh"


def test_a_failing_phase_keeps_its_status_and_the_table_still_prints(tmp_path: Path) -> None:
    times = tmp_path / "times"
    run = f"{SCRIPT} run {times}"
    script = (
        f"trap '{SCRIPT} report {times}' EXIT; "
        f"{run} setup true && {run} lint sh -c 'sleep 0.2; exit 3' && {run} pytest true"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert "make test: time per phase" in lines
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert rows["setup"].endswith("ok") and "FAILED (exit 3)" in rows["lint"]
    assert "pytest" not in rows, "a phase after the failure ran"
    assert float(rows["lint"].split()[1]) >= 0.2
    assert "total" in rows


def test_make_test_runs_every_phase_through_the_timer() -> None:
    # Read the recipe, never `make -n test`: make runs lines with $(MAKE) even under -n.
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest: ") :].split("\n\n")[0]
    for phase in ("setup/system-deps", "tools", "lint", '"parallel pytest"', '"alone pytest"'):
        assert f"$(PHASE) {phase} " in recipe, phase
    assert "test-phases.sh report $(TEST_TIMES)' EXIT" in recipe


def test_phases_run_side_by_side_report_the_wall_clock_beside_their_sum(tmp_path: Path) -> None:
    times = tmp_path / "times"
    run = f"{SCRIPT} run {times}"
    script = (
        f"trap '{SCRIPT} report {times}' EXIT; "
        f"{{ {run} a sleep 1 & pid=$!; {run} b sleep 1; wait $pid; }}"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = {
        line.rsplit(None, 1)[0].strip(): float(line.split()[-1])
        for line in proc.stdout.splitlines()
        if line.startswith("  ") and line.split()[-1][0].isdigit()
    }
    assert rows["total"] >= 2.0, rows
    assert 1.0 <= rows["wall clock"] < 1.9, rows
