"""The `platformgen` command line.

Exit codes: 0 success; 1 errors in the spec, drift found by `check`, or an
operation that could not run; 2 bad command-line usage; 3 a render or update
that was applied (or, for `diff`, would be) with conflicts to resolve; 4 an
unexpected error in platformgen itself (a bug: one line, details in a log file,
see crash.py); 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import yaml

from . import __version__
from .console import Console
from .crash import write_report
from .engine.apply import WriteInterrupted
from .engine.errors import EngineError
from .engine.operations import CheckResult, Drift, SpecInvalidError, SyncResult, check, new, sync
from .engine.plan import Change, Plan
from .report import Finding, Report, to_sarif
from .spec import SpecResult, load_spec
from .spec.support import parse_date

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONFLICTS, EXIT_BUG = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130

_EXAMPLES = {
    "validate": """examples:
  platformgen validate platform.yaml
  platformgen validate platform.yaml --format json     # one result shape (docs/cli.md)
  platformgen validate platform.yaml --format sarif > platformgen.sarif   # GitHub code scanning""",
    "show": """examples:
  platformgen show platform.yaml                        # resolved spec, every default filled in
  platformgen show platform.yaml --format json""",
    "new": """examples:
  platformgen new examples/getprospa/platform.yaml -o ../getprospa-platform
  platformgen new platform.yaml -o out --templates https://github.com/platformgen/platformgen.git --template-ref v0.1.0""",
    "render": """examples:
  platformgen render                 # in a generated repo, after editing platform.yaml
  platformgen render path/to/repo --allow-dirty""",
    "diff": """examples:
  platformgen diff                   # what `render` would change
  platformgen diff --update          # what `update` would change
  platformgen diff --format json     # the changes and conflicts as one JSON result""",
    "update": """examples:
  platformgen update                              # to the templates this platformgen carries
  platformgen update --templates ~/src/platformgen --template-ref v0.2.0
  platformgen update --src-path https://github.com/acme/platformgen.git   # record another source""",
    "check": """examples:
  platformgen check                  # in CI: fails when generated files drifted
  platformgen check --format json""",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="platformgen",
        description="Render a complete platform repository (Terraform, Helm, services, pipelines) "
        "from one YAML spec, and keep it up to date.",
        epilog="Run `platformgen COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"platformgen {__version__}")
    parser.add_argument("--no-color", action="store_true", help="plain output even on a terminal")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("validate", "Check a spec against the schema, semantic rules and policy.")
    p.add_argument("spec", type=Path, help="path of the platform spec (platform.yaml)")
    p.add_argument(
        "--format",
        choices=["text", "json", "sarif"],
        default="text",
        help="json: the result shape of docs/cli.md; sarif: SARIF 2.1.0 for code scanning",
    )
    p.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="judge EKS and MySQL support dates on this day "
        "(default: PLATFORMGEN_AS_OF, else today)",
    )

    p = command("show", "Print the spec with every default filled in.")
    p.add_argument("spec", type=Path, help="path of the platform spec")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")

    p = command("new", "Render a new repository, git-initialised with a first commit.")
    p.add_argument("spec", type=Path, help="path of the platform spec")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="new folder (must not exist or be empty)"
    )
    _template_options(p)
    _src_path_option(p)

    for name, text in (
        (
            "render",
            "Re-render an existing repository after its platform.yaml changed (3-way merge).",
        ),
        ("diff", "Show what render (or update) would change, without writing anything."),
        ("update", "Move a repository to a newer template version with a 3-way merge."),
    ):
        p = command(name, text)
        p.add_argument(
            "repo", type=Path, nargs="?", default=Path(), help="generated repository (default: .)"
        )
        p.add_argument("--spec", type=Path, help="spec to use (default: REPO/platform.yaml)")
        if name == "diff":
            p.add_argument("--update", action="store_true", help="show what `update` would change")
            p.add_argument("--format", choices=["text", "json"], default="text")
        _template_options(p)
        _src_path_option(p)
        if name != "render":
            p.add_argument(
                "--allow-downgrade",
                action="store_true",
                help="allow moving units to an older template version than they record",
            )
        if name != "diff":
            p.add_argument(
                "--allow-dirty",
                action="store_true",
                help="run even with uncommitted changes in the repository",
            )

    p = command(
        "check", "Fail when the repository differs from what its spec and templates render."
    )
    p.add_argument(
        "repo", type=Path, nargs="?", default=Path(), help="generated repository (default: .)"
    )
    p.add_argument("--spec", type=Path, help="spec to use (default: REPO/platform.yaml)")
    _template_options(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    return parser


def _template_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--templates",
        metavar="REPO",
        help="template repository (path, git URL or bundle) instead of the templates platformgen carries",
    )
    p.add_argument(
        "--template-ref",
        "--to",
        dest="ref",
        metavar="REF",
        help="template version tag in --templates (default: the newest version tag)",
    )


def _src_path_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--src-path",
        metavar="URL",
        help="the stable template source answers files record for plain `copier update` "
        "(default: keep what they record; for new: PLATFORMGEN_TEMPLATE_URL or the public URL)",
    )


def _print_diagnostics(console: Console, result: SpecResult) -> None:
    for d in result.diagnostics:
        text = d.format()
        (console.error if d.severity == "error" else console.warn)(text)


def _emit(report: Report, fmt: str) -> None:
    if fmt == "sarif":
        print(json.dumps(to_sarif(report), indent=2, ensure_ascii=False))
    else:
        print(report.dumps())


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _cmd_validate(args: argparse.Namespace, console: Console) -> int:
    result = load_spec(args.spec, as_of=args.as_of)
    if args.format in ("json", "sarif"):
        report = Report(
            command="validate",
            target=result.file,
            exit_code=EXIT_OK if result.ok else EXIT_ERROR,
            findings=[Finding.from_diagnostic(d) for d in result.diagnostics],
        )
        _emit(report, args.format)
    else:
        _print_diagnostics(console, result)
        summary = f"{result.file}: {len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        (console.ok if result.ok else console.error)(summary)
    return EXIT_OK if result.ok else EXIT_ERROR


def _cmd_show(args: argparse.Namespace, console: Console) -> int:
    result = load_spec(args.spec)
    if not result.ok or result.resolved is None:
        _print_diagnostics(console, result)
        return EXIT_ERROR
    if args.format == "json":
        print(json.dumps(result.resolved, indent=2, ensure_ascii=False))
    else:
        print("# Resolved by platformgen show: every default filled in.")
        print(
            yaml.safe_dump(result.resolved, sort_keys=False, allow_unicode=True, width=100), end=""
        )
    return EXIT_OK


def _summary(console: Console, result: SyncResult) -> None:
    rows = [[u.id, u.dest, u.status, str(u.files) if u.files else ""] for u in result.units]
    console.table(["unit", "destination", "status", "files"], rows)
    plan = result.plan
    for note in plan.notes:
        console.warn(f"note: {note}")
    if plan.conflicts:
        console.error(
            f"{len(plan.conflicts)} file(s) have conflicts to resolve (look for <<<<<<< before updating):"
        )
        for change in plan.conflicts:
            console.error(f"  CONFLICT {change.path}")


def _cmd_new(args: argparse.Namespace, console: Console) -> int:
    result = new(
        args.spec,
        args.output,
        templates=args.templates,
        ref=args.ref,
        src_path=args.src_path,
        progress=console.progress,
        notice=console.warn,
    )
    _summary(console, result)
    files = sum(u.files for u in result.units)
    console.ok(
        f"created {args.output} ({files} files, templates {result.template_ref}) with a first commit"
    )
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace, console: Console, *, update: bool) -> int:
    result = sync(
        args.repo,
        update=update,
        spec_path=args.spec,
        templates=args.templates,
        ref=getattr(args, "ref", None),
        allow_dirty=args.allow_dirty,
        allow_downgrade=getattr(args, "allow_downgrade", False),
        src_path=args.src_path,
        progress=console.progress,
        notice=console.warn,
    )
    _summary(console, result)
    changed = len(result.plan.changes)
    verb = "updated" if update else "rendered"
    if result.plan.conflicts:
        console.error(f"{verb} with conflicts: resolve them, then commit")
        return EXIT_CONFLICTS
    console.ok(
        f"{verb}: {changed} file(s) changed (templates {result.template_ref}); review with git diff"
    )
    return EXIT_OK


def _patch(change: Change) -> str | None:
    """The change as a unified diff; None for a binary file."""
    if change.kind == "delete":
        return f"--- a/{change.path}\n+++ /dev/null\n@@ deleted @@\n"
    before = change.before or b""
    after = change.content or b""
    if b"\0" in before[:8192] or b"\0" in after[:8192]:
        return None
    text = "".join(
        difflib.unified_diff(
            before.decode(errors="replace").splitlines(keepends=True),
            after.decode(errors="replace").splitlines(keepends=True),
            fromfile=f"a/{change.path}" if change.before is not None else "/dev/null",
            tofile=f"b/{change.path}",
        )
    )
    return text if not text or text.endswith("\n") else text + "\n"


def _plan_findings(plan: Plan) -> list[Finding]:
    findings = [
        Finding(
            severity="error",
            code="merge.conflict",
            message="changed both in the repository and in the template: conflict markers "
            "(<<<<<<< before updating) to resolve",
            file=c.path,
            unit=c.unit,
            fix="edit the file to keep what you want, remove the markers, then commit",
        )
        for c in plan.conflicts
    ]
    findings += [Finding(severity="note", code="merge.note", message=n) for n in plan.notes]
    return findings


def _cmd_diff(args: argparse.Namespace, console: Console) -> int:
    result = sync(
        args.repo,
        update=args.update,
        spec_path=args.spec,
        templates=args.templates,
        ref=args.ref,
        dry_run=True,
        allow_downgrade=args.allow_downgrade,
        src_path=args.src_path,
        progress=console.progress,
        notice=console.warn,
    )
    code = EXIT_CONFLICTS if result.plan.conflicts else EXIT_OK
    if args.format == "json":
        report = Report(
            command="diff",
            target=str(args.repo.resolve()),
            exit_code=code,
            templates=result.template_ref,
            findings=_plan_findings(result.plan),
            changes=[
                {"path": c.path, "unit": c.unit, "kind": c.kind, "patch": _patch(c)}
                for c in result.plan.changes
            ],
        )
        print(report.dumps())
        return code
    for change in result.plan.changes:
        patch = _patch(change)
        sys.stdout.write(patch if patch is not None else f"Binary file {change.path} changes\n")
    _summary(console, result)
    console.line(f"{len(result.plan.changes)} file(s) would change; nothing was written")
    # The same exit code as the render or update it previews.
    return code


def _cmd_check(args: argparse.Namespace, console: Console) -> int:
    result = check(
        args.repo,
        spec_path=args.spec,
        templates=args.templates,
        ref=args.ref,
        progress=console.progress,
        notice=console.warn,
    )
    code = EXIT_OK if result.ok else EXIT_ERROR
    if args.format == "json":
        report = Report(
            command="check",
            target=str(args.repo.resolve()),
            exit_code=code,
            templates=result.template_ref,
            findings=_check_findings(result),
            files_checked=result.files_checked,
        )
        print(report.dumps())
    else:
        for note in result.notes:
            console.warn(f"note: {note}")
        for d in result.allowed:
            console.warn(f"note: {d.unit}: {d.path}: {d.reason} (listed in localChanges)")
        for d in result.drift:
            console.error(f"drift: {d.unit}: {d.path}: {d.reason}")
            if d.fix:
                console.error(f"    fix: {d.fix}")
        if result.ok:
            console.ok(f"no drift: {result.files_checked} generated files match the spec")
        elif all(d.fix for d in result.drift):
            console.error(f"{len(result.drift)} difference(s) from what platform.yaml renders")
        else:
            console.error(
                f"{len(result.drift)} difference(s) from what platform.yaml renders; run `platformgen render` "
                "(or `update`), or list deliberate edits under localChanges"
            )
    return code


_CHECK_FIX = "run `platformgen render` (or `update`), or list deliberate edits under localChanges"


def _check_findings(result: CheckResult) -> list[Finding]:
    def finding(d: Drift, severity: str, message: str) -> Finding:
        return Finding(
            severity="error" if severity == "error" else "note",
            code=d.code,
            message=message,
            file=d.path,
            unit=d.unit or None,
            fix=(d.fix or _CHECK_FIX) if severity == "error" else None,
        )

    findings = [finding(d, "error", d.reason) for d in result.drift]
    findings += [finding(d, "note", f"{d.reason} (listed in localChanges)") for d in result.allowed]
    findings += [Finding(severity="note", code="check.note", message=n) for n in result.notes]
    return findings


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    if args.command == "validate":
        return _cmd_validate(args, console)
    if args.command == "show":
        return _cmd_show(args, console)
    if args.command == "new":
        return _cmd_new(args, console)
    if args.command in ("render", "update"):
        return _cmd_sync(args, console, update=args.command == "update")
    if args.command == "diff":
        return _cmd_diff(args, console)
    return _cmd_check(args, console)


def _failed(args: argparse.Namespace, findings: list[Finding]) -> bool:
    """With a machine format, report a command that could not run in that format; True if done."""
    fmt = getattr(args, "format", "text")
    if fmt not in ("json", "sarif") or args.command == "show":
        return False
    target = str(args.spec) if args.command == "validate" else str(args.repo.resolve())
    _emit(Report(command=args.command, target=target, exit_code=EXIT_ERROR, findings=findings), fmt)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    console = Console(color=False if args.no_color else None)
    try:
        return _dispatch(args, console)
    except SpecInvalidError as exc:
        if not _failed(args, [Finding.from_diagnostic(d) for d in exc.result.diagnostics]):
            _print_diagnostics(console, exc.result)
        console.error(f"{exc}; nothing was written")
        return EXIT_ERROR
    except EngineError as exc:
        finding = Finding(
            severity="error", code="platformgen.error", message=exc.message, fix=exc.fix or None
        )
        _failed(args, [finding])
        console.error(exc.format())
        return EXIT_ERROR
    except WriteInterrupted as exc:
        console.error(f"interrupted while writing; {exc.state}")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        console.error("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`platformgen show | head`): not a bug.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        console.error(write_report(exc, argv))
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
