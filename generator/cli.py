"""The `platformgen` command line.

Exit codes: 0 success; 1 errors in the spec, drift found by `check`, or an
operation that could not run; 2 bad command-line usage; 3 an update or render
that was applied but left conflicts to resolve.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from . import __version__
from .console import Console
from .engine.apply import WriteInterrupted
from .engine.errors import EngineError
from .engine.operations import SpecInvalidError, SyncResult, check, new, sync
from .engine.plan import Plan
from .spec import SpecResult, load_spec

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONFLICTS = 0, 1, 2, 3

_EXAMPLES = {
    "validate": """examples:
  platformgen validate platform.yaml
  platformgen validate platform.yaml --format json     # for CI annotations""",
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
  platformgen diff --update          # what `update` would change""",
    "update": """examples:
  platformgen update                              # to the templates this platformgen carries
  platformgen update --templates ~/src/platformgen --template-ref v0.2.0""",
    "check": """examples:
  platformgen check                  # in CI: fails when generated files drifted
  platformgen check --format json""",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platformgen",
        description="Render a complete platform repository (Terraform, Helm, services, pipelines) "
        "from one YAML spec, and keep it up to date.",
        epilog="Run `platformgen COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"platformgen {__version__}")
    parser.add_argument("--no-color", action="store_true", help="plain output even on a terminal")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = command("show", "Print the spec with every default filled in.")
    p.add_argument("spec", type=Path, help="path of the platform spec")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")

    p = command("new", "Render a new repository, git-initialised with a first commit.")
    p.add_argument("spec", type=Path, help="path of the platform spec")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="new folder (must not exist or be empty)"
    )
    _template_options(p)

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
        _template_options(p)
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


def _print_diagnostics(console: Console, result: SpecResult) -> None:
    for d in result.diagnostics:
        text = d.format()
        (console.error if d.severity == "error" else console.warn)(text)


def _cmd_validate(args: argparse.Namespace, console: Console) -> int:
    result = load_spec(args.spec)
    if args.format == "json":
        payload = {
            "file": result.file,
            "valid": result.ok,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "diagnostics": [d.to_json() for d in result.diagnostics],
        }
        print(json.dumps(payload, indent=2))
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


def _print_plan_diff(plan: Plan) -> None:
    for change in plan.changes:
        if change.kind == "delete":
            print(f"--- a/{change.path}\n+++ /dev/null\n@@ deleted @@")
            continue
        before = change.before or b""
        after = change.content or b""
        if b"\0" in before[:8192] or b"\0" in after[:8192]:
            print(f"Binary file {change.path} changes")
            continue
        lines = difflib.unified_diff(
            before.decode(errors="replace").splitlines(keepends=True),
            after.decode(errors="replace").splitlines(keepends=True),
            fromfile=f"a/{change.path}" if change.before is not None else "/dev/null",
            tofile=f"b/{change.path}",
        )
        sys.stdout.writelines(lines)
        if after and not after.endswith(b"\n"):
            print()


def _cmd_diff(args: argparse.Namespace, console: Console) -> int:
    result = sync(
        args.repo,
        update=args.update,
        spec_path=args.spec,
        templates=args.templates,
        ref=args.ref,
        dry_run=True,
        progress=console.progress,
        notice=console.warn,
    )
    _print_plan_diff(result.plan)
    _summary(console, result)
    console.line(f"{len(result.plan.changes)} file(s) would change; nothing was written")
    # The same exit code as the render or update it previews.
    return EXIT_CONFLICTS if result.plan.conflicts else EXIT_OK


def _cmd_check(args: argparse.Namespace, console: Console) -> int:
    result = check(
        args.repo,
        spec_path=args.spec,
        templates=args.templates,
        ref=args.ref,
        progress=console.progress,
        notice=console.warn,
    )
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "templates": result.template_ref,
                    "filesChecked": result.files_checked,
                    "drift": [
                        {"unit": d.unit, "path": d.path, "reason": d.reason, "fix": d.fix}
                        for d in result.drift
                    ],
                    "notes": result.notes,
                },
                indent=2,
            )
        )
    else:
        for note in result.notes:
            console.warn(f"note: {note}")
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
    return EXIT_OK if result.ok else EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(color=False if args.no_color else None)
    try:
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
    except SpecInvalidError as exc:
        _print_diagnostics(console, exc.result)
        console.error(f"{exc}; nothing was written")
        return EXIT_ERROR
    except EngineError as exc:
        console.error(exc.format())
        return EXIT_ERROR
    except WriteInterrupted as exc:
        console.error(f"interrupted while writing; {exc.state}")
        return 130
    except KeyboardInterrupt:
        console.error("interrupted; nothing was written")
        return 130


if __name__ == "__main__":
    sys.exit(main())
