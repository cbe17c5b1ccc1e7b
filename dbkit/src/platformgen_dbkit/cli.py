"""dbkit's command line: `dbkit preflight|verify|schema copy|users|lag|cutover ...` (see docs/runbooks)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, cutover_cli, users_cli
from .argtypes import names, positive_int, seconds
from .config import load_config, source_dsn
from .db import parse_dsn
from .errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_WARNINGS, DbkitError, Interrupted
from .output import table
from .paths import check_writable_file, write_private
from .schema_copy import TargetNotEmpty


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"dbkit: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dbkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dbkit {__version__}")
    parser.add_argument("--config", type=Path, help="dbkit.json with the spec's defaults (default: $DBKIT_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pre = sub.add_parser("preflight", help="check what makes or breaks a DMS migration")
    pre.add_argument("--source", help="source DSN (default: $DBKIT_SOURCE_DSN, else the spec's migration source)")
    pre.add_argument("--target", help="target DSN (default: $DBKIT_TARGET_DSN; optional)")
    pre.add_argument("--json", action="store_true", help="print the findings as JSON")
    pre.add_argument("--lob-mode", choices=["full", "limited"], help="DMS LOB mode (default: the spec's)")
    pre.add_argument("--lob-max-kb", type=positive_int, help="DMS LOB limit in KiB (default: the spec's)")
    pre.add_argument(
        "--binlog-min-hours", type=positive_int, default=24, help="binlog retention wanted for CDC (default 24)"
    )

    ver = sub.add_parser("verify", help="prove the target holds the same rows as the source")
    ver.add_argument("--source", help="source DSN (default: $DBKIT_SOURCE_DSN, else the spec's migration source)")
    ver.add_argument("--target", help="target DSN (default: $DBKIT_TARGET_DSN)")
    ver.add_argument("--tables", type=names, help="comma-separated tables (default: every base table)")
    ver.add_argument("--exclude", type=names, default=[], help="comma-separated tables to leave out")
    ver.add_argument("--workers", type=positive_int, default=4, help="parallel chunks (default 4)")
    ver.add_argument("--chunk-time", type=seconds(0, 3600), default=0.5, help="target seconds per chunk (default 0.5)")
    ver.add_argument("--chunk-size", type=positive_int, help="fixed rows per chunk (default: adapt to --chunk-time)")
    ver.add_argument(
        "--max-load",
        type=int,
        default=25,
        help="pause while the target's Threads_running exceeds this (0: never; default 25)",
    )
    ver.add_argument("--retries", type=int, default=3, help="reconnect attempts when a server goes away (default 3)")
    ver.add_argument(
        "--sleep", type=seconds(0, 3600), default=0.0, help="pause after each chunk, in seconds (default 0)"
    )
    ver.add_argument(
        "--nokey",
        choices=["table", "skip"],
        default="table",
        help="tables without a usable key: whole-table digest, or skip (default table)",
    )
    ver.add_argument(
        "--nokey-max-rows",
        type=positive_int,
        default=1_000_000,
        help="largest key-less table whose differing rows are located (default 1000000)",
    )
    ver.add_argument(
        "--max-listed", type=positive_int, default=1000, help="differences listed per table and kind (default 1000)"
    )
    ver.add_argument(
        "--checkpoint",
        type=Path,
        default=Path("verify-checkpoint.jsonl"),
        help="checkpoint file (default verify-checkpoint.jsonl); an existing one is resumed",
    )
    ver.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start over")
    ver.add_argument("--report", type=Path, help="also write the JSON report to this file")
    ver.add_argument("--json", action="store_true", help="print the JSON report instead of a summary")
    ver.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal anyway)")
    cutover_cli.add_parsers(sub)  # lag, cutover

    schema = sub.add_parser("schema", help="the target's schema")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True, parser_class=_Parser)
    copy = schema_sub.add_parser(
        "copy", help="create the source's tables (indexes, foreign keys) on an empty target, before DMS's full load"
    )
    copy.add_argument("--source", help="source DSN (default: $DBKIT_SOURCE_DSN, else the spec's migration source)")
    copy.add_argument("--target", help="target DSN (default: $DBKIT_TARGET_DSN); its database must be empty")
    copy.add_argument("--tables", type=names, help="comma-separated tables (default: every base table)")
    copy.add_argument("--exclude", type=names, default=[], help="comma-separated tables to leave out")
    copy.add_argument("--dry-run", action="store_true", help="print the statements; create nothing")
    copy.add_argument("--json", action="store_true", help="print the result as JSON")
    users_cli.register(sub)
    return parser


def _schema_copy(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from .schema_copy import copy_schema

    source, target = parse_dsn(_source(args, config), "source"), parse_dsn(args.target, "target")
    result = copy_schema(source, target, tables=args.tables, exclude=args.exclude, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    if args.dry_run:
        print("SET SESSION foreign_key_checks = 0;")
        for t in result["tables"]:
            print(f"{t['statement']};\n")
    else:
        for name in result["created"]:
            print(f"created table {name}")
    for item in result["not_copied"]:
        print(f"not copied: {item['object']}: {item['why']}; {item['fix']}")
    for note in result["notes"]:
        print(f"note: {note}")
    verb = "would create" if args.dry_run else "created"
    print(f"\n{verb} {len(result['tables'])} tables on {target.label}")
    return EXIT_OK


def _preflight(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from .preflight import Settings, exit_code, run_preflight

    source = parse_dsn(_source(args, config), "source")
    target = parse_dsn(args.target, "target") if args.target or _env("DBKIT_TARGET_DSN") else None
    dms = config.get("dms", {})
    settings = Settings(
        lob_mode=args.lob_mode or dms.get("lobMode", "full"),
        lob_max_kb=args.lob_max_kb or int(dms.get("lobMaxSizeKb", 64)),
        cdc=dms.get("migrationType", "full-load-and-cdc") == "full-load-and-cdc",
        binlog_min_hours=args.binlog_min_hours,
    )
    findings = run_preflight(source, target, settings)
    code = exit_code(findings)
    if args.json:
        print(json.dumps({"exit_code": code, "findings": [f.as_dict() for f in findings]}, indent=2))
    else:
        rows = [[f.severity.upper(), f.object, f.check, f.finding, f.fix] for f in findings]
        table(["severity", "object", "check", "finding", "fix"], rows)
        counts = {s: sum(f.severity == s for f in findings) for s in ("blocker", "warning", "info")}
        print(f"\n{counts['blocker']} blockers, {counts['warning']} warnings, {counts['info']} notes")
    return code


def _env(name: str) -> str:
    return os.environ.get(name, "")


def _source(args: argparse.Namespace, config: dict[str, Any]) -> str | None:
    """--source, else $DBKIT_SOURCE_DSN, else the spec's migration source (dbkit.json)."""
    return args.source or _env("DBKIT_SOURCE_DSN") or source_dsn(config)


def _verify(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from .verify import Options, verify

    source, target = parse_dsn(_source(args, config), "source"), parse_dsn(args.target, "target")
    # Where the results go is checked before any work: a run must never end unable to keep them.
    check_writable_file(args.checkpoint, "--checkpoint", replace=False)
    if args.report:
        check_writable_file(args.report, "--report", replace=True)
        if args.report.resolve() == args.checkpoint.resolve():
            raise DbkitError(
                f"--report and --checkpoint are the same file ({args.report})",
                "give the report its own file, e.g. --report verify-report.json",
            )
    options = Options(
        checkpoint=args.checkpoint,
        tables=args.tables,
        exclude=args.exclude,
        workers=args.workers,
        chunk_time=args.chunk_time,
        chunk_size=args.chunk_size,
        max_load=args.max_load,
        retries=max(args.retries, 0),
        sleep=args.sleep,
        nokey=args.nokey,
        nokey_max_rows=args.nokey_max_rows,
        max_listed=args.max_listed,
        restart=args.restart,
        progress=sys.stderr.isatty() and not args.no_progress and not args.json,
    )
    report = verify(source, target, options)
    text = json.dumps(report, indent=2, sort_keys=False)
    if args.report:
        # Keys of differing rows can be personal data: the report is private, like the checkpoint.
        try:
            write_private(args.report, text + "\n")
        except OSError as exc:
            # The run is recorded as done: keep its result rather than lose it.
            print(text)
            raise DbkitError(
                f"cannot write --report {args.report}: {exc.strerror}; the report is printed on standard output instead",
                "keep that output; pass --report a writable file next time",
            ) from None
    if args.json:
        print(text)
    else:
        s = report["summary"]
        rows = []
        for t in report["tables"]:
            c = t["counts"]
            rows.append([
                t["table"], t["status"], str(t["rows_source"]), str(t["chunks"]),
                str(c["missing_on_target"]), str(c["extra_on_target"]), str(c["different"]),
            ])  # fmt: skip
        table(["table", "status", "rows", "chunks", "missing", "extra", "different"], rows)
        print(
            f"\n{report['result'].upper()}: {s['rows_source']:,} rows in {s['chunks']} chunks, "
            f"{s['seconds']} s ({s['computed_rows']:,} rows computed: {s['rows_per_second']:,} rows/s), "
            f"{s['resumed_chunks']} chunks resumed from {report['checkpoint']}"
        )
        for t in report["tables"]:
            for kind in ("missing_on_target", "extra_on_target"):
                for key in t[kind][:20]:
                    print(f"  {t['table']}: {kind.replace('_', ' ')}: {key}")
            for d in t["different"][:20]:
                print(f"  {t['table']}: different: {d['key']} columns {', '.join(d['columns'])}")
            for note in t["schema_differences"]:
                print(f"  {t['table']}: schema: {note}")
    return EXIT_OK if report["result"] == "match" else EXIT_WARNINGS


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code (errors.py): never 1 for a crash, which means differences."""
    args = build_parser().parse_args(argv)
    # "schema copy", "users apply": a command's sub-command (dest "<command>_command") names it too
    name = " ".join(filter(None, (args.command, getattr(args, f"{args.command}_command", None))))
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (kill, a CI job cancelled, a pod stopped) stops as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        config = load_config(args.config)
        if args.command == "preflight":
            return _preflight(args, config)
        if args.command == "lag":
            return cutover_cli.run_lag(args, _source(args, config))
        if args.command == "cutover":
            return cutover_cli.run_cutover(args, _source(args, config), config)
        if args.command == "schema":
            return _schema_copy(args, config)
        if args.command == "users":
            return users_cli.run(args)
        return _verify(args, config)
    except TargetNotEmpty as exc:
        sys.stderr.write(f"dbkit {name}: refused: {exc}\n")
        return EXIT_REFUSED
    except Interrupted as exc:
        sys.stderr.write(f"dbkit {name}: {exc}\n")
        return EXIT_INTERRUPTED
    except DbkitError as exc:
        sys.stderr.write(f"dbkit {name}: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write(f"dbkit {name}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 (a bug or an unforeseen failure: "could not finish", never "differences")
        if os.environ.get("DBKIT_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"dbkit {name}: error: the command could not finish: {type(exc).__name__}: {exc}\n"
            "  fix: run again with DBKIT_DEBUG=1 for the traceback, and report it if the cause is not yours\n"
        )
        return EXIT_ERROR
