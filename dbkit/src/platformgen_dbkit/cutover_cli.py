"""The `lag` and `cutover` subcommands' flags and entry points (cli.py registers them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .argtypes import positive_int, seconds
from .db import parse_dsn
from .errors import EXIT_INTERRUPTED, EXIT_OK


def _step(text: str) -> int:
    value = positive_int(text)
    if value > 7:
        raise argparse.ArgumentTypeError(f"{text}: steps are 1 to 7 (8 is the end)")
    return value


def add_parsers(sub: Any) -> None:
    lag = sub.add_parser("lag", help="end-to-end lag: a heartbeat written on the source, read on the target")
    lag.add_argument("--source", help="source DSN (default: $DBKIT_SOURCE_DSN, else the spec's migration source)")
    lag.add_argument("--target", help="target DSN (default: $DBKIT_TARGET_DSN)")
    lag.add_argument("--interval", type=seconds(0.05, 60), default=1.0, help="seconds between beats (default 1)")
    lag.add_argument(
        "--duration", type=seconds(0, 86400), default=0.0, help="stop after this many seconds (default: Ctrl-C)"
    )
    lag.add_argument("--max-lag", type=seconds(0, 86400), help="exit 1 when the last sample is above this")
    lag.add_argument("--json", action="store_true", help="print one JSON object per sample (JSON lines)")

    cut = sub.add_parser("cutover", help="freeze the source, prove the target, switch the app (steps 1-8)")
    cut.add_argument("--source", help="source DSN, the source's admin user (default: $DBKIT_SOURCE_DSN)")
    cut.add_argument("--target", help="target DSN (default: $DBKIT_TARGET_DSN)")
    mode = cut.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="run the checks of steps 1-2 and print the plan; change nothing"
    )
    mode.add_argument(
        "--abort", action="store_true", help="undo the cutover in --journal (before step 7): writes come back"
    )
    mode.add_argument(
        "--resume", action="store_true", help="continue the cutover in --journal from its unfinished step"
    )
    cut.add_argument(
        "--force", action="store_true", help="with --abort: also when step 7 began and its outcome is unknown"
    )
    cut.add_argument(
        "--journal",
        type=Path,
        default=Path("cutover-journal.jsonl"),
        help="state journal (default cutover-journal.jsonl)",
    )
    cut.add_argument("--report", type=Path, help="folder for cutover.json and cutover.md")
    cut.add_argument("--verify-report", type=Path, help="the last full `dbkit verify --report` (step 1)")
    cut.add_argument(
        "--app-user",
        action="append",
        metavar="USER",
        help="a MySQL user an app writes with on the source (frozen in step 3); repeat it for each app",
    )
    cut.add_argument(
        "--lag-threshold", type=seconds(0, 3600), default=5.0, help="lag allowed for steps 2 and 5 (default 5 s)"
    )
    cut.add_argument(
        "--lag-timeout", type=seconds(1, 86400), default=600.0, help="how long step 2 waits (default 600 s)"
    )
    cut.add_argument(
        "--fence-timeout", type=seconds(1, 3600), default=120.0, help="how long step 4 waits (default 120 s)"
    )
    cut.add_argument("--interval", type=seconds(0.05, 60), default=1.0, help="heartbeat interval (default 1 s)")
    cut.add_argument("--workers", type=positive_int, default=4, help="verify workers in step 5 (default 4)")
    cut.add_argument(
        "--full-verify-max-rows", type=positive_int, default=3_000_000,
        help="largest source (rows) whose full re-verify step 5 runs under frozen writes (default 3000000)",
    )  # fmt: skip
    cut.add_argument("--stop-after", type=_step, help="stop after this step (a rehearsal); then --resume or --abort")
    switch = cut.add_mutually_exclusive_group()
    switch.add_argument(
        "--switch-secret", metavar="SECRET_ID", help="the app's Secrets Manager secret to point at the target"
    )
    switch.add_argument("--switch-command", metavar="CMD", help="a command that switches the app (exit 0: switched)")
    switch.add_argument(
        "--switch-user",
        action="append",
        metavar="LOGICAL",
        help="a logical user of --users whose secret step 7 points at the target with a fresh password on its "
        "standby _a/_b user (users rotate --switch-to-target); repeat it for each app",
    )
    cut.add_argument("--users", type=Path, help="with --switch-user: the users file (default database/users.json)")
    cut.add_argument("--env", help="with --switch-user: the environment (its secrets and region)")
    cut.add_argument(
        "--passwords",
        choices=["secretsmanager", "env"],
        help="with --switch-user: the users' credential store (default secretsmanager; step 7 must write it)",
    )
    cut.add_argument(
        "--target-credentials-secret", metavar="SECRET_ID", help="username/password for the app on the target"
    )
    cut.add_argument(
        "--resync-command", metavar="CMD", help="run after the switch (e.g. force an External Secrets sync)"
    )


def _once(values: list[str], flag: str) -> tuple[str, ...]:
    from .errors import DbkitError

    seen: list[str] = []
    for value in values:
        if not value.strip():
            raise DbkitError(f"{flag} is empty", f"give a name with {flag}")
        if value in seen:
            raise DbkitError(f"{flag} {value} is given twice", f"give each name once with {flag}")
        seen.append(value)
    return tuple(seen)


def run_lag(args: argparse.Namespace, source: str | None) -> int:
    from .lag import LagOptions, run_lag

    options = LagOptions(interval=args.interval, duration=args.duration, max_lag=args.max_lag, json=args.json)
    src, tgt = parse_dsn(source, "source"), parse_dsn(args.target, "target")
    try:
        return run_lag(src, tgt, options)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def run_cutover(args: argparse.Namespace, source: str | None, config: dict[str, Any]) -> int:
    from .cutover import Cutover, CutoverOptions
    from .errors import DbkitError
    from .preflight import Settings
    from .switch import SwitchPlan

    src, tgt = parse_dsn(source, "source"), parse_dsn(args.target, "target")
    app_users = _once(args.app_user or [], "--app-user")
    switch_users = _once(args.switch_user or [], "--switch-user")
    if args.target_credentials_secret and not args.switch_secret:
        raise DbkitError(
            "--target-credentials-secret is given without --switch-secret",
            "drop it (--switch-user writes the username and password itself) or add --switch-secret",
        )
    if not switch_users:
        for flag, value in (("--users", args.users), ("--env", args.env), ("--passwords", args.passwords)):
            if value is not None:
                raise DbkitError(f"{flag} is given without --switch-user", f"add --switch-user LOGICAL or drop {flag}")
    elif args.env is None:
        raise DbkitError("--switch-user needs --env", "pass the environment whose secrets to switch, e.g. --env prod")
    if not args.abort:
        if not app_users:
            raise DbkitError("no --app-user given", "pass the MySQL user each app writes with (repeat --app-user)")
        if not (args.switch_secret or args.switch_command or switch_users):
            raise DbkitError(
                "no switch given",
                "pass --switch-user LOGICAL (with --users, --env), --switch-secret or --switch-command",
            )
    plan = SwitchPlan(
        args.switch_secret,
        args.target_credentials_secret,
        args.switch_command,
        args.resync_command,
        users=switch_users,
        users_file=(args.users or Path("database/users.json")) if switch_users else None,
        env=args.env,
        passwords=args.passwords or "secretsmanager",
    )
    if switch_users and not args.abort:
        plan.load()  # the users file and the logical names: exit 3 before the journal is touched
    dms = config.get("dms", {})
    options = CutoverOptions(
        journal=args.journal,
        app_users=app_users,
        switch=plan,
        verify_report=args.verify_report,
        report=args.report,
        lag_threshold=args.lag_threshold,
        lag_timeout=args.lag_timeout,
        fence_timeout=args.fence_timeout,
        interval=args.interval,
        workers=args.workers,
        full_verify_max_rows=args.full_verify_max_rows,
        stop_after=args.stop_after,
        preflight_settings=Settings(
            lob_mode=dms.get("lobMode", "full"),
            lob_max_kb=int(dms.get("lobMaxSizeKb", 64)),
            cdc=dms.get("migrationType", "full-load-and-cdc") == "full-load-and-cdc",
        ),
        force=args.force,
    )
    if args.report is not None and args.report.exists() and not args.report.is_dir():
        raise DbkitError(f"--report {args.report} is a file", "give a folder for cutover.json and cutover.md")
    cutover = Cutover(src, tgt, options)
    if args.dry_run:
        return cutover.dry_run()
    if args.abort:
        return cutover.abort()
    code = cutover.run(resume=args.resume)
    sys.stdout.flush()
    return code if code is not None else EXIT_OK
