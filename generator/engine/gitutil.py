"""The few git operations platformgen needs, with errors that say what to do."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from .errors import EngineError

# Commits made by platformgen never depend on the user's git setup.
_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path | None = None, input: bytes | None = None, check: bool = True) -> str:
    env = {**os.environ, **_ENV}
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=env,
            check=False,
            timeout=300,
        )
    except FileNotFoundError:
        raise EngineError("git is not installed", "install git (apt-get install git)") from None
    if check and proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(
            errors="replace"
        )
        raise EngineError(f"git {' '.join(args[:2])} failed: {detail.strip()}")
    return proc.stdout.decode(errors="replace")


def git_bytes(*args: str, cwd: Path | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=300)
    if proc.returncode != 0:
        raise EngineError(
            f"git {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout


def is_repo_root(path: Path) -> bool:
    if not (path / ".git").exists():
        return False
    top = git("rev-parse", "--show-toplevel", cwd=path, check=False).strip()
    return bool(top) and Path(top).resolve() == path.resolve()


def dirty_paths(folder: Path) -> list[str] | None:
    """Paths under `folder` with uncommitted changes (untracked files included).

    `folder` may be a repository's root or any folder inside a git work tree (a
    generated repository kept in a monorepo): only changes under it count, and
    paths are relative to it. None when `folder` is not in a git work tree.
    """
    prefix = git("rev-parse", "--show-prefix", cwd=folder, check=False)
    inside = git("rev-parse", "--is-inside-work-tree", cwd=folder, check=False).strip()
    if inside != "true":
        return None
    prefix = prefix.strip()
    out = git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".", cwd=folder)
    fields = out.split("\0")
    paths: list[str] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":
            i += 1  # the rename's source path follows
        path = entry[3:]
        paths.append(path[len(prefix) :] if prefix and path.startswith(prefix) else path)
    return paths


def init_and_commit(path: Path, message: str) -> None:
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    git("add", "--all", cwd=path)
    identity: list[str] = []
    if not git("config", "user.email", cwd=path, check=False).strip():
        identity = ["-c", "user.name=platformgen", "-c", "user.email=platformgen@localhost"]
    git(*identity, "commit", "--quiet", "--no-verify", "-m", message, cwd=path)


def merge_file(current: bytes, base: bytes, new: bytes) -> tuple[bytes, int]:
    """3-way merge of one file, exactly as copier's inline conflict mode does it.

    Returns the merged bytes and the number of conflicts (0 when clean). The
    labels are copier's, so a conflict looks the same whichever tool produced it.
    """
    with tempfile.TemporaryDirectory(prefix="platformgen-merge-") as tmp:
        paths = []
        for name, data in (("current", current), ("base", base), ("new", new)):
            p = Path(tmp) / name
            p.write_bytes(data)
            paths.append(str(p))
        proc = subprocess.run(
            [
                "git",
                "merge-file",
                "-p",
                "-L",
                "before updating",
                "-L",
                "last update",
                "-L",
                "after updating",
                *paths,
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
    if proc.returncode < 0 or proc.returncode > 127:
        raise EngineError(f"git merge-file failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout, proc.returncode
