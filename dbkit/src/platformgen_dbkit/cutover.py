"""cutover: move the app from the source to the target without losing an acknowledged write.

Steps (each recorded in the journal before it acts; `--dry-run` runs only the checks):
  1 preflight   preflight has no blocker; the last full verify (--verify-report) matched, or
                its differences (found under live CDC) are gone once lag is low; each app
                user can be frozen and the kit's user may freeze it; the switch is readable.
  2 lag         the heartbeat lag stays under --lag-threshold for 3 samples in a row.
  3 freeze      revoke each app user's write grants on the schema and kill its sessions.
  4 fence       write a heartbeat on the source and wait until the target has it: every
                write acknowledged before the freeze is then on the target.
  5 verify      what changed since the last full verify: a full re-verify (writes are frozen,
                so it is exact), refused in step 1 above --full-verify-max-rows rows. Any
                difference is rechecked once after a new fence; only persistent ones count.
  6 auto_increment  raise each target table's AUTO_INCREMENT to the source's counter (DMS
                does not carry it).
  7 switch      point each app's database secret at the target (--switch-user: users rotate
                --switch-to-target; or --switch-secret, or run --switch-command).
  8 done        report.
A failure, SIGINT or SIGTERM before step 7 gives the source its writes back and leaves the
secret unchanged; after step 7 the way back is forward (or reverse replication: runbook).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from . import freeze, switch
from .db import DSN, Connection
from .errors import EXIT_BLOCKERS, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_WARNINGS, DbkitError, ServerGone
from .heartbeat import Heartbeat, Monitor
from .journal import Busy, Journal, State, now_iso
from .names import HEARTBEAT_TABLE
from .schema import quote

STEPS = {1: "preflight", 2: "lag", 3: "freeze", 4: "fence", 5: "verify", 6: "auto_increment", 7: "switch", 8: "done"}
_AUTO_INCREMENT = re.compile(r"\bAUTO_INCREMENT=(\d+)")


class Refused(DbkitError):
    """A precondition failed (exit 2): nothing was changed."""


class Differences(DbkitError):
    """The target differs from the frozen source (exit 1)."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM."""


@dataclass
class CutoverOptions:
    journal: Path
    app_users: tuple[str, ...]
    switch: switch.SwitchPlan
    verify_report: Path | None = None
    report: Path | None = None
    lag_threshold: float = 5.0
    lag_timeout: float = 600.0
    fence_timeout: float = 120.0
    interval: float = 1.0
    workers: int = 4
    full_verify_max_rows: int = 3_000_000
    stop_after: int | None = None
    preflight_settings: Any = None
    force: bool = False
    out: TextIO = field(default=sys.stdout)


class Cutover:
    def __init__(self, source: DSN, target: DSN, options: CutoverOptions) -> None:
        self.source_dsn, self.target_dsn, self.opt = source, target, options
        self.journal = Journal(options.journal)
        self.state = State()
        self.monitor: Monitor | None = None
        self.admin: Connection | None = None
        self.timings: dict[int, float] = {}
        self.facts: dict[str, Any] = {}
        self._deferred: int | None = None
        self._defer = False
        self._switch_not_done = False

    # ---- output -------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.opt.out.write(f"{now_iso()} {text}\n")
        self.opt.out.flush()

    # ---- signals ------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._defer:
            self._deferred = signum  # step 7 finishes first: half a switch is worse than none
            return
        raise Interrupted(signal.Signals(signum).name)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    # ---- connections --------------------------------------------------------------------
    def _admin(self) -> Connection:
        if self.admin is None:
            self.admin = Connection(self.source_dsn, read_timeout=60)
        return self.admin

    def _monitor(self) -> Monitor:
        if self.monitor is None:
            self.monitor = Monitor(Heartbeat(self.source_dsn, self.target_dsn, create=False), self.opt.interval).start()
        return self.monitor

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor.heartbeat.close()
            self.monitor = None
        if self.admin is not None:
            self.admin.close()
            self.admin = None

    # ---- the run ------------------------------------------------------------------------
    def _lock(self) -> bool:
        try:
            self.journal.lock()
        except Busy as exc:
            self.say(f"refused: {exc}")
            return False
        return True

    def run(self, *, resume: bool = False) -> int:
        if not self._lock():
            return EXIT_BLOCKERS
        try:
            self.state = self.journal.load()
            if resume:
                if self.state.status != "open":
                    raise Refused(
                        f"{self.opt.journal} holds no cutover in progress ({self.state.status})",
                        "start one without --resume",
                    )
                self.say(f"resuming run {self.state.run_id} at step {self.state.next_step()}")
            else:
                if self.state.status == "open":
                    raise Refused(
                        f"{self.opt.journal} holds cutover {self.state.run_id}, still in progress",
                        "run `dbkit cutover --resume` or `dbkit cutover --abort` with this journal",
                    )
                if self.state.status == "finished":
                    raise Refused(f"{self.opt.journal} holds a finished cutover", "use a new --journal path")
                self.state = State(run_id=uuid.uuid4().hex, status="open")
                self.journal.append({
                    "event": "begin", "run_id": self.state.run_id, "app_users": list(self.opt.app_users),
                    "source": self.source_dsn.public(), "target": self.target_dsn.public(),
                    "switch": self.opt.switch.describe(), "lag_threshold": self.opt.lag_threshold,
                })  # fmt: skip
                self.state.begin = {"at": now_iso()}
            with self._signals():
                return self._steps()
        except Refused as exc:
            self.say(f"refused: {exc}")
            return EXIT_BLOCKERS
        finally:
            self.close()
            self.journal.unlock()

    def _steps(self) -> int:
        actions: dict[int, Callable[[], dict[str, Any]]] = {
            1: self.step_preflight, 2: self.step_lag, 3: self.step_freeze, 4: self.step_fence,
            5: self.step_verify, 6: self.step_auto_increment, 7: self.step_switch, 8: self.step_done,
        }  # fmt: skip
        step = self.state.next_step()
        try:
            while step <= 8:
                if self.opt.stop_after is not None and step > self.opt.stop_after:
                    self.say(f"stopped after step {self.opt.stop_after} (--stop-after): --resume or --abort")
                    self._write_report("paused")
                    return EXIT_OK
                self._run_step(step, actions[step])
                step += 1
            self.journal.append({"event": "finished"})
            self.state.status = "finished"
            self._write_report("done")
            return EXIT_INTERRUPTED if self._deferred else EXIT_OK
        except Interrupted as exc:
            self.say(f"interrupted ({exc}) during step {step} {STEPS[step]}")
            return self._fail(step, f"interrupted by {exc}", EXIT_INTERRUPTED)
        except Refused as exc:
            self.say(f"refused at step {step} {STEPS[step]}: {exc}")
            return self._fail(step, str(exc), EXIT_BLOCKERS)
        except Differences as exc:
            self.say(f"differences at step {step} {STEPS[step]}: {exc}")
            return self._fail(step, str(exc), EXIT_WARNINGS)
        except DbkitError as exc:
            self.say(f"failed at step {step} {STEPS[step]}: {exc}")
            return self._fail(step, str(exc), EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001  (a bug must still give the source its writes back)
            self.say(f"crashed at step {step} {STEPS[step]}: {exc!r}")
            return self._fail(step, repr(exc), EXIT_ERROR)

    def _run_step(self, step: int, action: Callable[[], dict[str, Any]]) -> None:
        self.say(f"step {step} {STEPS[step]}: start")
        started = time.monotonic()
        data = action()
        seconds = round(time.monotonic() - started, 3)
        self.timings[step] = seconds
        self.journal.append({"event": "done", "step": step, "name": STEPS[step], "seconds": seconds, "data": data})
        self.state.done[step] = {"data": data, "at": now_iso(), "seconds": seconds}
        self.say(f"step {step} {STEPS[step]}: done in {seconds:.3f} s")

    def _start(self, step: int, data: dict[str, Any] | None = None) -> None:
        """Record the step, and what it is about to change, before it acts."""
        record = {"event": "start", "step": step, "name": STEPS[step], "data": data or {}}
        self.journal.append(record)
        self.state.started[step] = {**record, "at": now_iso()}

    def _fail(self, step: int, reason: str, code: int) -> int:
        self._defer = True  # a second Ctrl-C must not interrupt the undo
        self.journal.append({"event": "failed", "step": step, "name": STEPS[step], "error": reason})
        if 7 in self.state.done:
            self.say("the app already uses the target: nothing to undo (roll forward)")
            self._write_report("switched, then failed")
            return code
        try:
            restored = self._undo()
        except DbkitError as exc:
            self.say(
                f"could not give the source its writes back: {exc}\n  run `dbkit cutover --abort` with this journal"
            )
            return EXIT_ERROR
        self.journal.append({"event": "aborted", "reason": reason, "restored": restored})
        self.state.status = "aborted"
        self.say(f"aborted: the source has its writes back ({len(restored)} grants restored); the secret is unchanged")
        self._write_report("aborted")
        return code

    def _undo(self) -> list[str]:
        """Give the source its writes back (what step 3 recorded it took)."""
        if 7 in self.state.started and 7 not in self.state.done and not self._switch_not_done:
            recorded = self.state.started[7].get("data", {})
            if not self.opt.force and not switch.unchanged(self.opt.switch, recorded):
                raise DbkitError(
                    "step 7 (switch) began and did not finish: the app may already use the target",
                    "check the app's secret; if it still names the source, run --abort --force, else --resume",
                )
        if 3 not in self.state.started:
            return []
        plan = [freeze.Revocation.from_dict(r) for r in self.state.started[3]["data"]["revocations"]]
        freeze.restore(self._admin(), plan)
        return [rev.grant_sql() for rev in plan]

    def abort(self) -> int:
        """`--abort`: undo a cutover recorded in the journal (its process is gone)."""
        if not self._lock():
            return EXIT_BLOCKERS
        try:
            self.state = self.journal.load()
            if self.state.status in ("new", "aborted"):
                self.say(f"nothing to abort in {self.opt.journal} ({self.state.status})")
                return EXIT_OK
            if 7 in self.state.done or self.state.status == "finished":
                raise Refused(
                    "the cutover switched the app to the target (step 7 done): there is no abort",
                    "roll forward, or set up reverse replication (docs/runbooks: migrate from DigitalOcean)",
                )
            restored = self._undo()
            self.journal.append({"event": "aborted", "reason": "--abort", "restored": restored})
            self.state.status = "aborted"
            self.say(f"aborted: the source has its writes back ({len(restored)} grants restored)")
            self._write_report("aborted")
            return EXIT_OK
        except Refused as exc:
            self.say(f"abort refused: {exc}")
            return EXIT_BLOCKERS
        finally:
            self.close()
            self.journal.unlock()

    # ---- steps --------------------------------------------------------------------------
    def checks(self) -> dict[str, Any]:
        """Step 1's checks; also what --dry-run prints. Raises Refused."""
        from .preflight import Settings, run_preflight

        findings = run_preflight(self.source_dsn, self.target_dsn, self.opt.preflight_settings or Settings())
        blockers = [f for f in findings if f.severity == "blocker"]
        if blockers:
            raise Refused(
                f"preflight has {len(blockers)} blockers: "
                + "; ".join(f"{f.object}: {f.finding}" for f in blockers[:5]),
                "fix them (`dbkit preflight` lists each with its fix)",
            )
        last = self._last_verify()
        admin = self._admin()
        problems = freeze.check_admin(admin)
        if problems:
            raise Refused(
                f"the kit's source user {self.source_dsn.user!r} cannot freeze writes: " + "; ".join(problems),
                "run the cutover as the source's admin user (DigitalOcean: doadmin); SHOW GRANTS shows what it has",
            )
        plan = []
        for user in self.opt.app_users:
            taken = freeze.plan_freeze(admin, user, self.source_dsn.database)
            if not taken:
                raise Refused(
                    f"{user!r} holds no write privilege on {self.source_dsn.database}: nothing would freeze",
                    "pass the users the apps write with (--app-user, once per user)",
                )
            plan += taken
        switch.check(self.opt.switch)
        secrets = self._check_switch_users()
        rows = int(last.get("summary", {}).get("rows_source", 0))
        if rows > self.opt.full_verify_max_rows:
            raise Refused(
                f"the source holds {rows:,} rows: step 5's full re-verify under frozen writes would exceed "
                f"--full-verify-max-rows {self.opt.full_verify_max_rows:,}",
                "raise --full-verify-max-rows (the freeze grows by the verify's time; `make bench-cutover` measures it)",
            )
        return {
            "preflight": {s: sum(f.severity == s for f in findings) for s in ("blocker", "warning", "info")},
            "last_verify": {"file": str(self.opt.verify_report), "sha256": self.facts.get("last_verify_sha256"),
                            "rows_source": rows, "seconds": last.get("summary", {}).get("seconds"),
                            "rechecked": self.facts.get("rechecked", 0)},
            "freeze_plan": [sql for rev in plan for sql in rev.revoke_sql()],
            "app_sessions": {u: len(freeze.sessions(admin, u)) for u in self.opt.app_users},
            "switch": self.opt.switch.describe(),
            "switch_secrets": secrets,
        }  # fmt: skip

    def _check_switch_users(self) -> list[str]:
        """--switch-user: a secret that is empty, already names the target, or cannot be
        written refuses the cutover in step 1 (exit 2), before anything changes."""
        if not self.opt.switch.users:
            return []
        try:
            return switch.check_users(self.opt.switch, self.target_dsn)
        except ServerGone:
            raise
        except DbkitError as exc:
            raise Refused(exc.message, exc.fix) from None

    def _last_verify(self) -> dict[str, Any]:
        path = self.opt.verify_report
        if path is None:
            raise Refused("no --verify-report given", "run `dbkit verify --report FILE` first and pass that FILE")
        try:
            raw = path.read_bytes()
            report = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise Refused(
                f"cannot read the verify report {path}: {exc}", "pass the file `dbkit verify --report` wrote"
            ) from None
        if not isinstance(report, dict) or report.get("tool") != "dbkit verify":
            raise Refused(f"{path} is not a dbkit verify report", "pass the file `dbkit verify --report` wrote")
        for role, dsn in (("source", self.source_dsn), ("target", self.target_dsn)):
            seen = report.get(role, {})
            if (seen.get("host"), seen.get("port"), seen.get("database")) != (dsn.host, dsn.port, dsn.database):
                raise Refused(
                    f"{path} verified another {role} ({seen.get('host')}:{seen.get('port')}/{seen.get('database')})",
                    "verify this source and target, then pass that report",
                )
        self.facts["last_verify_sha256"] = hashlib.sha256(raw).hexdigest()
        if report.get("result") != "match":
            self._recheck(report)
        return report

    def _recheck(self, report: dict[str, Any]) -> None:
        """Differences found under live CDC: recheck each row once lag is low; persistent ones refuse."""
        keys: list[tuple[str, dict[str, Any]]] = []
        for t in report.get("tables", []):
            if t.get("table") == HEARTBEAT_TABLE or t.get("status") == "match":
                continue
            counts = t.get("counts", {})
            listed = (
                len(t.get("missing_on_target", [])) + len(t.get("extra_on_target", [])) + len(t.get("different", []))
            )
            if (
                t.get("status") != "differences"
                or t.get("unlocated")
                or t.get("schema_differences")
                or listed < sum(counts.values())
            ):
                raise Refused(
                    f"the last verify found differences in {t.get('table')} that cannot be rechecked row by row "
                    f"({t.get('status')}; schema or unlocated differences, or more rows than it listed)",
                    "fix the target, then run a new full `dbkit verify --report`",
                )
            keys += [(t["table"], k) for k in t.get("missing_on_target", []) + t.get("extra_on_target", [])]
            keys += [(t["table"], d["key"]) for d in t.get("different", [])]
        self._wait_lag()
        persistent = self._differing(keys)
        self.facts["rechecked"] = len(keys)
        if persistent:
            shown = ", ".join(f"{t} {k}" for t, k in persistent[:10])
            raise Refused(
                f"{len(persistent)} of the {len(keys)} differences of the last verify persist with lag under "
                f"{self.opt.lag_threshold} s: {shown}",
                "fix the target (or the CDC task), then run a new full `dbkit verify --report`",
            )
        self.say(f"the last verify's {len(keys)} differences were in flight: gone with lag under the threshold")

    def _differing(self, keys: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
        found = []
        with _pair(self.source_dsn, self.target_dsn) as (src, tgt):
            for table, key in keys:
                if any(not isinstance(v, int | str) and v is not None for v in key.values()):
                    raise Refused(f"{table}: key {key} cannot be rechecked by value", "run a new full verify")
                where = " AND ".join(f"{quote(c)} <=> %s" for c in key)
                sql = f"SELECT * FROM {quote(table)} WHERE {where}"
                args = tuple(key.values())
                if src.rows(sql, args) != tgt.rows(sql, args):
                    found.append((table, key))
        return found

    def _wait_lag(self) -> float:
        """Wait until 3 samples in a row are under the threshold; return the last lag."""
        monitor = self._monitor()
        deadline = time.monotonic() + self.opt.lag_timeout
        while True:
            if monitor.error is not None:
                raise DbkitError(f"the heartbeat stopped: {monitor.error}", "check both servers")
            recent = monitor.samples[-3:]
            if len(recent) == 3 and all(
                s.lag_seconds is not None and s.lag_seconds <= self.opt.lag_threshold for s in recent
            ):
                return float(recent[-1].lag_seconds or 0.0)
            if time.monotonic() > deadline:
                last = recent[-1].lag_seconds if recent else None
                raise Refused(
                    f"lag stayed above {self.opt.lag_threshold} s for {self.opt.lag_timeout:.0f} s (last: {last})",
                    "check the CDC task; run `dbkit lag` to watch it; raise --lag-timeout if it is draining",
                )
            time.sleep(0.05)

    def step_preflight(self) -> dict[str, Any]:
        self._start(1)
        return self.checks()

    def step_lag(self) -> dict[str, Any]:
        self._start(2)
        return {"lag_seconds": self._wait_lag()}

    def step_freeze(self) -> dict[str, Any]:
        admin = self._admin()
        plan = [r for user in self.opt.app_users for r in freeze.plan_freeze(admin, user, self.source_dsn.database)]
        if 3 in self.state.started:  # resumed: keep what the first attempt took, add what is new
            earlier = [freeze.Revocation.from_dict(r) for r in self.state.started[3]["data"]["revocations"]]
            plan = earlier + [r for r in plan if r not in earlier]
        self._start(3, {"revocations": [r.as_dict() for r in plan], "freeze_started": now_iso()})
        self.facts.setdefault("freeze_started", time.time())
        for rev in plan:  # in the log too (CloudWatch keeps the executor's): what --abort gives back
            self.say(f"step 3 freeze: {'; '.join(rev.revoke_sql())} (undo: {rev.grant_sql()})")
        freeze.revoke(admin, plan)
        killed = {user: freeze.kill_sessions(admin, user) for user in self.opt.app_users}
        return {
            "app_users": list(self.opt.app_users),
            "revoked": [sql for r in plan for sql in r.revoke_sql()],
            "sessions_killed": killed,
        }

    def step_fence(self) -> dict[str, Any]:
        monitor = self._monitor()
        seq = monitor.heartbeat.beat()
        self._start(4, {"fence_seq": seq})
        waited = monitor.wait_for_seq(seq, self.opt.fence_timeout)
        return {"fence_seq": seq, "waited_seconds": round(waited, 3)}

    def _verify(self, name: str) -> dict[str, Any]:
        from .verify import Options, verify

        checkpoint = self.opt.journal.with_name(f"{self.opt.journal.name}.{name}.verify.jsonl")
        options = Options(checkpoint=checkpoint, exclude=[HEARTBEAT_TABLE], workers=self.opt.workers, restart=True)
        return verify(self.source_dsn, self.target_dsn, options)

    def step_verify(self) -> dict[str, Any]:
        self._start(5, {"method": "full re-verify under frozen writes"})
        report = self._verify("step5")
        rechecked = False
        if report["result"] != "match":
            # Rechecked once after a new fence: only persistent differences count.
            self.say("differences found: rechecking after a new fence")
            monitor = self._monitor()
            monitor.wait_for_seq(monitor.heartbeat.beat(), self.opt.fence_timeout)
            report = self._verify("step5-recheck")
            rechecked = True
        summary = report["summary"]
        tables = {t["table"]: {"rows_source": t["rows_source"], "rows_target": t["rows_target"],
                               "status": t["status"], **t["counts"]} for t in report["tables"]}  # fmt: skip
        digest = hashlib.sha256(json.dumps(report["tables"], sort_keys=True, default=str).encode()).hexdigest()
        self.facts["verify"] = {"result": report["result"], "tables": tables, "sha256": digest, "summary": summary}
        if report["result"] != "match":
            bad = [n for n, t in tables.items() if t["status"] != "match"]
            raise Differences(
                f"the frozen source and the target differ in {', '.join(bad)}", "run `dbkit verify` to list the rows"
            )
        return {"result": "match", "rows": summary["rows_source"], "chunks": summary["chunks"],
                "seconds": summary["seconds"], "rechecked": rechecked, "sha256": digest}  # fmt: skip

    def _auto_increment_plan(self) -> list[dict[str, Any]]:
        """Tables whose target counter is below the source's: (table, from, to)."""
        plan = []
        with _pair(self.source_dsn, self.target_dsn) as (src, tgt):
            tables = src.rows(
                "SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                "AND EXTRA LIKE %s ORDER BY TABLE_NAME",
                ("%auto_increment%",),
            )
            for (table,) in tables:
                # SHOW CREATE TABLE shows the live counter on both servers (information_schema
                # caches it on MySQL 8: information_schema_stats_expiry).
                want, have = _counter(src, table), _counter(tgt, table)
                if want > have:
                    plan.append({"table": table, "from": have, "to": want})
        return plan

    def step_auto_increment(self) -> dict[str, Any]:
        self._start(6)
        changes = self._auto_increment_plan()
        with _pair(self.source_dsn, self.target_dsn) as (_, tgt):
            for change in changes:
                tgt.rows(f"ALTER TABLE {quote(change['table'])} AUTO_INCREMENT = {int(change['to'])}")
        self.facts["auto_increment"] = changes
        return {"changed": changes}

    def step_switch(self) -> dict[str, Any]:
        self._defer = True
        try:
            previous = switch.before(self.opt.switch)
            self._start(7, previous)
            try:
                done = switch.switch(self.opt.switch, self.target_dsn, self.state.run_id)
            except DbkitError:
                # A hook that exited non-zero did not switch (its contract); a secret is
                # checked: still the version read before the write means nothing changed.
                self._switch_not_done = self.opt.switch.command is not None or switch.unchanged(
                    self.opt.switch, previous
                )
                raise
        finally:
            self._defer = False
        started = self.facts.get("freeze_started")
        if started is None and 3 in self.state.started:
            started = dt.datetime.fromisoformat(self.state.started[3]["data"]["freeze_started"]).timestamp()
        self.facts["write_freeze_seconds"] = round(time.time() - started, 3) if started else None
        self.say(f"write freeze: {self.facts['write_freeze_seconds']} s (revoke to switch)")
        return {**done, "write_freeze_seconds": self.facts["write_freeze_seconds"]}

    def step_done(self) -> dict[str, Any]:
        self._start(8)
        if self.monitor is not None:
            self.monitor.stop()
        return {}

    # ---- dry run ------------------------------------------------------------------------
    def dry_run(self) -> int:
        try:
            with self._signals():
                checks = self.checks()
                lag = self._wait_lag()
        except Interrupted:
            return EXIT_INTERRUPTED
        except Refused as exc:
            self.say(f"dry run: refused: {exc}")
            return EXIT_BLOCKERS
        finally:
            self.close()
        self.say(f"dry run: step 1 preflight: {json.dumps(checks['preflight'])}; last verify ok")
        self.say(f"dry run: step 2 lag {lag:.3f} s <= {self.opt.lag_threshold} s")
        for sql in checks["freeze_plan"]:
            self.say(f"dry run: step 3 would run: {sql}")
        for user, count in checks["app_sessions"].items():
            self.say(f"dry run: step 3 would kill {count} open sessions of {user!r}")
        estimate = checks["last_verify"].get("seconds")
        self.say(
            f"dry run: step 4 would wait for a heartbeat fence; step 5 would re-verify "
            f"{checks['last_verify']['rows_source']:,} rows (the last full verify took {estimate} s: "
            "most of the write freeze)"
        )
        for change in self._auto_increment_plan():
            self.say(
                f"dry run: step 6 would raise {change['table']}'s AUTO_INCREMENT on the target from "
                f"{change['from']} to at least {change['to']} (the source's counter moves until the freeze)"
            )
        self.say(f"dry run: step 7 would {checks['switch']}")
        for where in checks["switch_secrets"]:
            self.say(f"dry run: step 7 would point {where} at the target")
        return EXIT_OK

    # ---- report -------------------------------------------------------------------------
    def _write_report(self, result: str) -> None:
        if self.opt.report is None:
            return
        steps = []
        for n, name in STEPS.items():
            if n in self.state.done:
                steps.append({"step": n, "name": name, "status": "done",
                              "seconds": self.state.done[n].get("seconds")})  # fmt: skip
            elif n in self.state.started:
                steps.append({"step": n, "name": name, "status": "started", "seconds": None})
        samples = self.monitor.samples if self.monitor else []
        report = {
            "tool": "dbkit cutover",
            "run_id": self.state.run_id,
            "result": result,
            "source": self.source_dsn.public(),
            "target": self.target_dsn.public(),
            "app_users": list(self.opt.app_users or self.state.begin.get("app_users", [])),
            "switch": self.state.done.get(7, {}).get("data"),
            "steps": steps,
            "write_freeze_seconds": self.facts.get("write_freeze_seconds"),
            "counts": self.facts.get("verify", {}).get("tables", {}),
            "digests": {"last_verify_report_sha256": self.facts.get("last_verify_sha256"),
                        "cutover_verify_sha256": self.facts.get("verify", {}).get("sha256")},
            "auto_increment": self.facts.get("auto_increment", []),
            "lag_timeline": [s.as_dict() for s in samples],
            "journal": str(self.opt.journal),
        }  # fmt: skip
        self.opt.report.mkdir(parents=True, exist_ok=True)
        (self.opt.report / "cutover.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (self.opt.report / "cutover.md").write_text(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Cutover {report['run_id']}: {report['result']}",
        "",
        f"- Source: {report['source']['host']}:{report['source']['port']}/{report['source']['database']}",
        f"- Target: {report['target']['host']}:{report['target']['port']}/{report['target']['database']}",
        f"- App users (frozen in step 3): {', '.join(f'`{u}`' for u in report['app_users'])}",
        *(f"- Switched {s['where']}: now `{s['current']}`" for s in (report["switch"] or {}).get("switched_users", [])),
        f"- Write freeze (revoke to switch): {report['write_freeze_seconds']} s",
        f"- Last verify report sha256: `{report['digests']['last_verify_report_sha256']}`",
        f"- Cutover verify sha256: `{report['digests']['cutover_verify_sha256']}`",
        "",
        "## Steps",
        "",
        "| step | name | status | seconds |",
        "|---:|---|---|---:|",
        *(f"| {s['step']} | {s['name']} | {s['status']} | {s['seconds'] if s['seconds'] is not None else ''} |"
          for s in report["steps"]),
        "",
        "## Rows",
        "",
        "| table | source | target | status |",
        "|---|---:|---:|---|",
        *(f"| {t} | {c['rows_source']} | {c['rows_target']} | {c['status']} |" for t, c in sorted(report["counts"].items())),
        "",
        "## Lag timeline",
        "",
        "| source clock (UTC) | lag (s) |",
        "|---|---:|",
        *(f"| {s['at']} | {s['lag_seconds']} |" for s in report["lag_timeline"]),
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def _counter(conn: Connection, table: str) -> int:
    found = conn.row(f"SHOW CREATE TABLE {quote(table)}")
    m = _AUTO_INCREMENT.search(str(found[1])) if found else None
    return int(m.group(1)) if m else 1


@contextmanager
def _pair(source: DSN, target: DSN) -> Iterator[tuple[Connection, Connection]]:
    src = Connection(source)
    try:
        tgt = Connection(target)
        try:
            yield src, tgt
        finally:
            tgt.close()
    finally:
        src.close()
