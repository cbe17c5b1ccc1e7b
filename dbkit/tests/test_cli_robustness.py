"""The command line as a new user meets it: exit codes, bad paths, concurrent runs, honest rates.

Exit codes (errors.py): 0 identical, 1 differences, 3 the command could not finish. A crash
must never exit 1, which a script reads as "differences found".
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from platformgen_dbkit import cli, digest
from platformgen_dbkit.checkpoint import Checkpoint
from platformgen_dbkit.errors import DbkitError
from platformgen_dbkit.names import HEARTBEAT_TABLE

from conftest import KIT, run_dbkit, verify_json

NOWHERE = ("--source", "mysql://u:p@127.0.0.1:1/x", "--target", "mysql://u:p@127.0.0.1:2/y")


def test_an_unexpected_failure_exits_3_not_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug inside a command says so and exits 3; 1 stays the code for differences."""
    from platformgen_dbkit import verify

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug the kit did not foresee")

    monkeypatch.setattr(verify, "verify", broken)
    code = cli.main(["verify", *NOWHERE, "--checkpoint", str(tmp_path / "cp.jsonl")])
    err = capsys.readouterr().err
    assert code == 3
    assert "could not finish: RuntimeError: a bug the kit did not foresee" in err
    assert "DBKIT_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("DBKIT_DEBUG", "1")
    assert cli.main(["verify", *NOWHERE, "--checkpoint", str(tmp_path / "cp.jsonl")]) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--checkpoint", "--report"])
@pytest.mark.parametrize("kind", ["directory", "under a file", "special file", "read-only folder"])
def test_bad_output_paths_are_refused_before_the_run(
    loaded: Any, dsns: tuple[str, str], tmp_path: Path, flag: str, kind: str
) -> None:
    """Checked before any work: no traceback, no run recorded as done with its result lost."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    bad = {
        "directory": tmp_path / "a-dir",
        "under a file": blocker / "out.json",
        "special file": Path("/dev/null"),  # never replaced, even by root
        "read-only folder": Path("/proc/dbkit-report.json"),  # nobody, root included, creates files there
    }[kind]
    (tmp_path / "a-dir").mkdir()
    checkpoint = tmp_path / "cp.jsonl"
    args = ["--tables", "same_rows", flag, str(bad)]
    proc = run_dbkit("verify", "--source", dsns[0], "--target", dsns[1], "--checkpoint", checkpoint, *args)
    assert proc.returncode == 3, proc.stderr
    assert f"{flag} {bad}" in proc.stderr and "fix: pass" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    if flag == "--report":
        assert not checkpoint.exists(), "the run started before its report path was checked"


def test_the_report_cannot_overwrite_the_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    code = cli.main(["verify", *NOWHERE, "--checkpoint", str(checkpoint), "--report", str(tmp_path / "." / "cp.jsonl")])
    assert code == 3
    assert "--report and --checkpoint are the same file" in capsys.readouterr().err
    assert not checkpoint.exists()


def test_a_report_written_in_place_is_never_half_written(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    report = tmp_path / "reports" / "verify.json"
    report.parent.mkdir()
    report.write_text("the previous report\n")
    report.chmod(0o644)
    code, printed, err = verify_json(dsns, tmp_path / "cp.jsonl", "--tables", "same_rows", "--report", str(report))
    assert code == 0, err
    assert json.loads(report.read_text()) == printed
    assert report.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in report.parent.iterdir()) == ["verify.json"]  # no temporary left


def test_rows_per_second_counts_only_rows_computed_in_this_run(
    loaded: Any, dsns: tuple[str, str], tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    args = ("--tables", "same_rows", "--chunk-size", "100", "--workers", "1")
    code, first, err = verify_json(dsns, checkpoint, *args)
    assert code == 0, err
    assert first["summary"]["computed_rows"] == first["summary"]["rows_source"] == 1200
    # As if the run had been killed three chunks before its end: those three are redone.
    lines = checkpoint.read_text().splitlines()
    assert json.loads(lines[-1])["kind"] == "done"
    chunks = [i for i, line in enumerate(lines) if json.loads(line)["kind"] == "chunk"]
    dropped = chunks[-3:]
    redo_rows = sum(json.loads(lines[i])["source"][0] for i in dropped)
    kept = [line for i, line in enumerate(lines[:-1]) if i not in dropped]
    checkpoint.write_text("\n".join(kept) + "\n")
    code, report, err = verify_json(dsns, checkpoint, *args)
    assert code == 0, err
    s = report["summary"]
    assert (s["resumed_chunks"], s["computed_chunks"], s["rows_source"]) == (len(chunks) - 3, 3, 1200)
    assert s["computed_rows"] == redo_rows < 1200
    assert s["rows_per_second"] == pytest.approx(redo_rows / s["seconds"], rel=0.05)


def test_a_run_that_cannot_start_leaves_no_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    proc = run_dbkit("verify", *NOWHERE, "--checkpoint", checkpoint)
    assert proc.returncode == 3 and "cannot connect" in proc.stderr
    assert not checkpoint.exists()


def test_a_checkpoint_is_locked_by_its_run(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    first = Checkpoint(path, "fp", "salt", restart=False)
    with pytest.raises(DbkitError) as exc:
        Checkpoint(path, "fp", "salt", restart=False)
    assert "in use by another dbkit run" in exc.value.message and exc.value.fix
    with pytest.raises(DbkitError, match="in use"):
        Checkpoint(path, "fp", "salt", restart=True)  # --restart must not truncate a live run's file
    assert len(path.read_text().splitlines()) == 1  # the first run's header is intact
    first.append({"kind": "chunk", "table": "t", "n": 0})
    first.close()
    again = Checkpoint(path, "fp", "other", restart=False)  # released: resumable
    assert again.resumed and again.salt == "salt"
    again.close()


def test_a_second_run_on_a_busy_checkpoint_is_refused(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    args = ["--tables", "same_rows", "--chunk-size", "100", "--workers", "1", "--json"]
    base = [sys.executable, "-m", "platformgen_dbkit", "verify", "--source", dsns[0], "--target", dsns[1]]
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    slow = subprocess.Popen(
        [*base, "--checkpoint", str(checkpoint), *args, "--sleep", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"chunk"' not in (checkpoint.read_text() if checkpoint.exists() else ""):
        time.sleep(0.05)
    second = run_dbkit("verify", "--source", dsns[0], "--target", dsns[1], "--checkpoint", checkpoint, *args)
    out, err = slow.communicate(timeout=120)
    assert second.returncode == 3, second.stdout + second.stderr
    assert f"checkpoint {checkpoint} is in use by another dbkit run" in second.stderr
    assert slow.returncode == 0, err
    report = json.loads(out)
    assert report["summary"]["computed_chunks"] == report["summary"]["chunks"]
    chunks = [json.loads(line) for line in checkpoint.read_text().splitlines()]
    done = [(r["table"], r["n"]) for r in chunks if r["kind"] == "chunk"]
    assert len(done) == len(set(done)) == report["summary"]["chunks"]


def test_the_kit_ships_no_code_only_the_benchmark_uses() -> None:
    """Every SQL builder in digest.py is called by the kit itself (benchmark helpers live in bench/)."""
    src = Path(digest.__file__).parent
    public = [
        n.name
        for n in ast.parse(Path(digest.__file__).read_text()).body
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    ]
    used_by_kit = "\n".join(p.read_text() for p in src.glob("*.py") if p.name != "digest.py")
    digest_text = Path(digest.__file__).read_text()
    unused = [
        name
        for name in public
        if f"digest.{name}(" not in used_by_kit and digest_text.count(f"{name}(") < 2  # called within digest.py
    ]
    assert unused == []


def test_verify_and_preflight_leave_the_heartbeat_out(
    loaded: Any, conns: Any, dsns: tuple[str, str], tmp_path: Path
) -> None:
    """`dbkit lag` rewrites the heartbeat row every second: it always differs, and is never compared."""
    source, target = conns
    for conn, seq in ((source, 41), (target, 7)):
        conn.rows(f"DROP TABLE IF EXISTS {HEARTBEAT_TABLE}")
        conn.rows(
            f"CREATE TABLE {HEARTBEAT_TABLE} (id TINYINT UNSIGNED PRIMARY KEY, seq BIGINT UNSIGNED NOT NULL, "
            "written_at DATETIME(6) NOT NULL)"
        )
        conn.rows(f"INSERT INTO {HEARTBEAT_TABLE} VALUES (1, {seq}, NOW(6))")
    try:
        code, report, err = verify_json(dsns, tmp_path / "a.jsonl", "--exclude", "hard_cases,composite,nokey")
        refused, _, refused_err = verify_json(dsns, tmp_path / "b.jsonl", "--tables", HEARTBEAT_TABLE)
        pre = run_dbkit("preflight", "--source", dsns[0], "--target", dsns[1], "--json")
    finally:
        for conn in conns:
            conn.rows(f"DROP TABLE {HEARTBEAT_TABLE}")
    assert code == 0, err
    assert HEARTBEAT_TABLE not in {t["table"] for t in report["tables"]}
    assert report["result"] == "match"
    assert refused == 3 and "heartbeat table" in refused_err and "leave dbkit_heartbeat out" in refused_err
    assert pre.returncode in (0, 1, 2), pre.stderr
    findings = json.loads(pre.stdout)["findings"]
    assert findings and not [f for f in findings if HEARTBEAT_TABLE in f["object"]]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_stops_cleanly_with_130(
    loaded: Any, dsns: tuple[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM: the finished chunks are kept, exit 130 (not 3, not a traceback), and it resumes."""
    checkpoint = tmp_path / "cp.jsonl"
    args = ["--tables", "same_rows", "--chunk-size", "100", "--workers", "1", "--json"]
    base = [sys.executable, "-m", "platformgen_dbkit", "verify", "--source", dsns[0], "--target", dsns[1]]
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    run = subprocess.Popen(
        [*base, "--checkpoint", str(checkpoint), *args, "--sleep", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (checkpoint.read_text() if checkpoint.exists() else "").count('"chunk"') < 2:
        time.sleep(0.05)
    run.send_signal(sig)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted" in err and "finished chunks are kept" in err and "Traceback" not in err, err
    code, report, err = verify_json(dsns, checkpoint, *args[:-1])
    assert code == 0, err
    assert report["summary"]["resumed_chunks"] >= 2
