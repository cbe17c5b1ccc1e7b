"""Record, check and tag template releases (docs/releasing.md).

    python scripts/release.py record 0.2.0 [--commit REV]   # append a release to releases.toml
    python scripts/release.py check                          # verify every release against git
    python scripts/release.py tags                           # create the missing v<version> tags

releases.toml is the source: tags and the wheel's history bundle are built from it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.releases import (  # noqa: E402
    RECORD_FILE,
    RecordError,
    Release,
    ReleaseRecord,
    commit_tree_hash,
    load_record,
    parse_record,
    release_tag,
)

_VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def git(*args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RecordError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def version_at(commit: str) -> str:
    match = _VERSION_LINE.search(git("show", f"{commit}:generator/__init__.py"))
    if not match:
        raise RecordError(f"{commit}: generator/__init__.py has no __version__ line")
    return match.group(1)


def verify(record: ReleaseRecord, release: Release) -> list[str]:
    """Problems with one release; empty when its commit, templates, version and tag agree."""
    try:
        commit = git("rev-parse", "--verify", f"{release.commit}^{{commit}}")
    except RecordError:
        return [f"{release.version}: commit {release.commit} is not in this clone (shallow?)"]
    problems = []
    tree = commit_tree_hash(ROOT, commit, record.paths)
    if tree != release.tree:
        problems.append(
            f"{release.version}: commit holds templates {tree}, record says {release.tree}"
        )
    if version_at(commit) != release.version:
        problems.append(
            f"{release.version}: generator/__init__.py at {commit[:12]} says {version_at(commit)}"
        )
    tagged = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", f"{release.tag}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if tagged and commit_tree_hash(ROOT, tagged, record.paths) != release.tree:
        problems.append(f"{release.version}: the tag {release.tag} holds other templates")
    return problems


def cmd_record(version: str, commit_ref: str) -> int:
    path = ROOT / RECORD_FILE
    record = load_record(path)
    commit = git("rev-parse", "--verify", f"{commit_ref}^{{commit}}")
    found = version_at(commit)
    if found != version:
        raise RecordError(
            f"generator/__init__.py at {commit[:12]} says {found}, not {version}: commit the "
            "version first, then record that commit"
        )
    tree = commit_tree_hash(ROOT, commit, record.paths)
    entry = f'\n[[release]]\nversion = "{version}"\ncommit = "{commit}"\ntree = "{tree}"\n'
    text = path.read_text(encoding="utf-8")
    new_text = text.rstrip("\n") + "\n" + entry
    new_record = parse_record(new_text)  # versions must increase, fields well-formed
    problems = verify(new_record, new_record.releases[-1])
    if problems:
        raise RecordError("; ".join(problems))
    path.write_text(new_text, encoding="utf-8")
    print(f"recorded {version}: commit {commit}, templates {tree}")
    print(f"next: commit {RECORD_FILE}, then `make release-tags` (docs/releasing.md)")
    return 0


def cmd_check() -> int:
    record = load_record(ROOT / RECORD_FILE)
    problems = [p for r in record.releases for p in verify(record, r)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"{len(record.releases)} release(s) verified: {', '.join(r.tag for r in record.releases)}"
        )
    return 1 if problems else 0


def cmd_tags() -> int:
    record = load_record(ROOT / RECORD_FILE)
    if cmd_check():
        return 1
    for release in record.releases:
        tag = release_tag(release.version)
        exists = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"refs/tags/{tag}"],
            cwd=ROOT, capture_output=True, check=False,
        ).returncode == 0  # fmt: skip
        if exists:
            continue
        git("tag", "-a", tag, release.commit, "-m", f"platformgen {release.version}")
        print(f"tagged {tag} at {release.commit}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record", help="append a release to releases.toml")
    p.add_argument("version")
    p.add_argument("--commit", default="HEAD", help="the commit whose templates it is")
    sub.add_parser("check", help="verify every recorded release against git")
    sub.add_parser("tags", help="create the missing v<version> tags (annotated)")
    args = parser.parse_args(argv)
    try:
        if args.command == "record":
            return cmd_record(args.version, args.commit)
        if args.command == "check":
            return cmd_check()
        return cmd_tags()
    except RecordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
