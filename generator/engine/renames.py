"""Renamed apps: which file of the old unit becomes which file of the new one.

An app renamed with `renamedFrom: OLD` keeps its history: each of the old
unit's files, with the user's edits, moves to where the new unit renders it,
and the usual 3-way merge then runs with the old render as the base. Paths
inside a unit may depend on the unit's key (`src/{{ key }}/`), so the old
answers are rendered a second time with the new key and destination: that
render differs from the old one only in where things go, and pairing the two
gives the move of every generated file. The user's own files follow the folder
they are in.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .render import Files


def _forms(key: str) -> list[str]:
    """The spellings of an app name in paths: as is, and as a Python package."""
    return list(dict.fromkeys([key, key.replace("-", "_")]))


def _substitute(rel: str, old: str, new: str) -> str:
    parts = []
    for part in PurePosixPath(rel).parts:
        for a, b in zip(_forms(old), _forms(new), strict=True):
            part = part.replace(a, b)
        parts.append(part)
    return PurePosixPath(*parts).as_posix() if parts else rel


def _relative(files: Files, dest: PurePosixPath) -> list[str]:
    out = []
    for path in files:
        rel = PurePosixPath(path).relative_to(dest) if dest.parts else PurePosixPath(path)
        out.append(rel.as_posix())
    return sorted(out)


def _join(dest: PurePosixPath, rel: str) -> str:
    return (dest / rel).as_posix()


def file_moves(
    *,
    old_key: str,
    new_key: str,
    old_dest: PurePosixPath,
    new_dest: PurePosixPath,
    old_render: Files,
    keyed_render: Files,
    own_files: list[str],
) -> dict[str, str]:
    """New path -> old path, repository-relative, for every file that moves.

    `old_render` is the old unit's last render, `keyed_render` the same answers
    rendered with the new key and destination, `own_files` the user's files in
    the old unit's folder (repository-relative).
    """
    old_rel = _relative(old_render, old_dest)
    keyed_rel = set(_relative(keyed_render, new_dest))
    pairs: dict[str, str] = {}  # old rel -> new rel
    taken: set[str] = set()
    for rel in old_rel:  # paths that do not depend on the key
        if rel in keyed_rel:
            pairs[rel] = rel
            taken.add(rel)
    for rel in old_rel:  # paths that spell the key
        if rel in pairs:
            continue
        guess = _substitute(rel, old_key, new_key)
        if guess in keyed_rel and guess not in taken:
            pairs[rel] = guess
            taken.add(guess)
    for rel in old_rel:  # the template put it elsewhere: keep the spelling rule
        pairs.setdefault(rel, _substitute(rel, old_key, new_key))
    folders: dict[str, str] = {}
    for old, new in sorted(pairs.items()):
        a, b = PurePosixPath(old).parent, PurePosixPath(new).parent
        while a.as_posix() != "." and b.as_posix() != "." and a.name != b.name:
            folders.setdefault(a.as_posix(), b.as_posix())
            a, b = a.parent, b.parent
        folders.setdefault(a.as_posix(), b.as_posix())
    moves = {_join(new_dest, new): _join(old_dest, old) for old, new in pairs.items()}
    for path in own_files:
        rel = (
            PurePosixPath(path).relative_to(old_dest) if old_dest.parts else PurePosixPath(path)
        ).as_posix()
        if rel in pairs:
            continue
        target = rel
        for folder in [PurePosixPath(rel).parent, *PurePosixPath(rel).parent.parents]:
            key = folder.as_posix()
            if key in folders and key != ".":
                target = (
                    PurePosixPath(folders[key]) / PurePosixPath(rel).relative_to(key)
                ).as_posix()
                break
        moves[_join(new_dest, target)] = path
    return moves


def files_under(repo: Path, folder: PurePosixPath, skip: set[str]) -> tuple[list[str], list[str]]:
    """Regular files under `folder` (repository-relative), and what cannot move (symlinks, tool folders)."""
    files: list[str] = []
    left: list[str] = []
    root = repo / folder
    for dirpath, dirnames, filenames in os.walk(root):
        for d in sorted(dirnames):
            if d in skip:
                left.append((Path(dirpath) / d).relative_to(repo).as_posix() + "/")
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(repo).as_posix()
            (left if path.is_symlink() else files).append(rel)
    return files, left
