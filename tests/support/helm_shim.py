#!/usr/bin/env python3
"""A `helm` stand-in for the pipeline rehearsal: `helm lint` and `helm template` over
helm-python-sdk (Helm 4's own Go library through ctypes), for machines with no helm binary.

Only what the generated repository's lint and test targets pass is understood:

    helm lint [--strict] CHART... [--namespace NS] [-f FILE]... [--kube-version V] [--quiet]
    helm template [NAME] CHART [--namespace NS] [-f FILE]...
    helm version [--short | --template '{{ .Version }}']   the library's Helm version (v4.x)

Values files merge as Helm merges them (maps merge, anything else is replaced, later
files win) and the chart's values.yaml is coalesced under them by the engine itself.
Any other subcommand or flag exits 2 naming it: a generated target that starts passing
something new fails loudly here instead of being checked with half its arguments.
The rehearsal runs this as `HELM=` and first on PATH as `helm` (tests/test_pipeline_rehearsal.py).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml

# Helm's lint severities (pkg/lint/support): 1 info, 2 warning, 3 error.
SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"helm (platformgen test shim): {message}\n")
        raise SystemExit(2)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _values(files: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in files:
        try:
            loaded = yaml.safe_load(Path(name).read_text()) or {}
        except OSError as exc:
            raise SystemExit(f"Error: open {name}: {exc.strerror}") from None
        if not isinstance(loaded, dict):
            raise SystemExit(f"Error: {name}: values must be a mapping")
        values = _merge(values, loaded)
    return values


def _parser() -> _Parser:
    parser = _Parser(prog="helm", add_help=False)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    lint = commands.add_parser("lint", add_help=False)
    lint.add_argument("charts", nargs="*", default=["."])
    lint.add_argument("--strict", action="store_true")
    lint.add_argument("--quiet", action="store_true")
    lint.add_argument("--kube-version")
    version = commands.add_parser("version", add_help=False)
    version.add_argument("--short", action="store_true")
    version.add_argument("--template")
    template = commands.add_parser("template", add_help=False)
    template.add_argument("args", nargs="+", metavar="[NAME] CHART")
    for sub in (lint, template):
        sub.add_argument("-n", "--namespace", default="default")
        sub.add_argument("-f", "--values", action="append", default=[])
    return parser


def lint(args: argparse.Namespace) -> int:
    import helm_python

    values = _values(args.values)
    failed = 0
    for chart in args.charts:
        report = helm_python.lint(
            chart,
            values,
            strict=args.strict,
            namespace=args.namespace,
            kube_version=args.kube_version,
        )
        messages = report["messages"]
        worst = max((m["severity"] for m in messages), default=0)
        bad = bool(report["errors"]) or worst >= 3 or (args.strict and worst >= 2)
        failed += bad
        if not args.quiet or bad:
            print(f"==> Linting {chart}")
            for m in messages:
                print(f"[{SEVERITY.get(m['severity'], m['severity'])}] {m['path']}: {m['error']}")
            print()
    total = len(args.charts)
    if failed:
        print(f"Error: {total} chart(s) linted, {failed} chart(s) failed", file=sys.stderr)
        return 1
    print(f"{total} chart(s) linted, 0 chart(s) failed")
    return 0


def template(args: argparse.Namespace) -> int:
    import helm_python

    if len(args.args) > 2:
        raise SystemExit(f"Error: expected at most 2 arguments (NAME CHART), got {args.args}")
    name, chart = args.args if len(args.args) == 2 else ("release-name", args.args[0])
    values = _values(args.values)
    try:
        files = helm_python.Chart.load(chart).render(values, name=name, namespace=args.namespace)
    except helm_python.HelmError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        sys.stdout.write(f"---\n# Source: {path}\n{text.rstrip()}\n")
    return 0


def install(bin_dir: Path, python: str = sys.executable) -> Path:
    """Write `bin_dir/helm`, which runs this shim with `python` (one with helm-python-sdk);
    put bin_dir first on PATH, or pass the returned path as HELM=."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    helm = bin_dir / "helm"
    helm.write_text(f'#!/bin/sh\nexec "{python}" "{Path(__file__).resolve()}" "$@"\n')
    helm.chmod(0o755)
    return helm


def version(args: argparse.Namespace) -> int:
    """What the generated targets' version checks read (delivery/tools.sh, helm 4 checks)."""
    import helm_python

    number = helm_python.helm_sdk_version()
    if args.template not in (None, "{{ .Version }}", "{{.Version}}"):
        raise SystemExit(f"helm (platformgen test shim): unsupported --template {args.template!r}")
    if args.short or args.template:
        print(number)
    else:
        print(
            f'version.BuildInfo{{Version:"{number}", GitCommit:"", GitTreeState:"", GoVersion:""}}'
        )
    return 0


COMMANDS = {"lint": lint, "template": template, "version": version}


def main(argv: list[str]) -> int:
    if argv[:1] not in ([c] for c in COMMANDS):
        print(
            f"helm (platformgen test shim): only {', '.join(COMMANDS)} are supported, not "
            f"{' '.join(argv[:1]) or '(nothing)'}",
            file=sys.stderr,
        )
        return 2
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
