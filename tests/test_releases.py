"""Template releases: the record, the version rule, clean clones without tags, the wheel's history.

releases.toml is the one record of releases (docs/releasing.md). These tests hold
it to the git history, hold the working templates to the version they claim, and
show that a clean clone (no tags) still serves every release to `update` and to a
wheel build, while a broken record fails the build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import GIT_ENV, ROOT, SPECS, git, run_cli
from packaging.version import Version
from test_wheel_update import build, build_wheel

from generator import __version__
from generator.engine.templates import TemplateSource, current_ref
from generator.releases import (
    RECORD_FILE,
    RecordError,
    commit_tree_hash,
    exclude_patterns,
    excluder,
    load_record,
    parse_record,
    release_tag,
    tag_version,
    tree_hash,
)

RECORD = load_record(ROOT / RECORD_FILE)
SPEC = SPECS / "small.yaml"


def _has_full_history() -> bool:
    return all(
        subprocess.run(
            ["git", "cat-file", "-e", f"{r.commit}^{{commit}}"], cwd=ROOT, capture_output=True
        ).returncode
        == 0
        for r in RECORD.releases
    )


def test_the_working_templates_are_the_version_they_claim() -> None:
    """Templates changed after a release need a new version (the wheel build enforces it too)."""
    skip = excluder(exclude_patterns(ROOT / "copier.yml"))
    tree = tree_hash(ROOT, RECORD.paths, skip)
    release = RECORD.get(__version__)
    if release is not None:
        assert tree == release.tree, (
            f"the templates changed after release {__version__} (tree {tree}, recorded "
            f"{release.tree}): set the next version in generator/__init__.py, e.g. "
            f"{Version(__version__).major}.{Version(__version__).minor + 1}.0.dev0, then "
            "`make reference` (docs/releasing.md)"
        )
    else:
        assert all(Version(r.version) < Version(__version__) for r in RECORD.releases), (
            f"{__version__} is not recorded, so it must be newer than every release"
        )


def test_the_reference_records_the_current_version() -> None:
    answers = ROOT / "examples" / "getprospa" / "repo" / ".copier-answers.repo.yml"
    assert f"_commit: {current_ref()}\n" in answers.read_text()


@pytest.mark.skipif(not _has_full_history(), reason="a shallow clone lacks the release commits")
def test_every_release_matches_its_commit() -> None:
    for release in RECORD.releases:
        assert commit_tree_hash(ROOT, release.commit, RECORD.paths) == release.tree
        init = git(ROOT, "show", f"{release.commit}:generator/__init__.py")
        assert f'__version__ = "{release.version}"' in init
    proc = subprocess.run(
        [sys.executable, "scripts/release.py", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_v010_is_the_commit_that_rendered_the_committed_reference() -> None:
    """What v0.1.0 means: the templates every repository rendered before the record claims."""
    release = RECORD.get("0.1.0")
    assert release is not None and release.commit.startswith("f06b289")


def test_python_and_git_agree_on_the_tree_hash(tmp_path: Path) -> None:
    repo = tmp_path / "t"
    (repo / "templates" / "a" / "b").mkdir(parents=True)
    (repo / "copier.yml").write_text("_exclude: ['__pycache__', '*.pyc']\n")
    (repo / "templates" / "a" / "b" / "run.sh").write_text("#!/bin/sh\n")
    (repo / "templates" / "a" / "b" / "run.sh").chmod(0o755)
    (repo / "templates" / "a-b.txt").write_text("sorts between a and a/ in git\n")
    (repo / "templates" / "a.txt").write_text("x\n")
    (repo / "schema").mkdir()
    (repo / "schema" / "s.json").write_text("{}\n")
    (repo / "schema" / "link").symlink_to("s.json")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "t")
    # A cache left by a tool is not part of the version.
    (repo / "templates" / "__pycache__").mkdir()
    (repo / "templates" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    skip = excluder(exclude_patterns(repo / "copier.yml"))
    paths = ("copier.yml", "templates", "schema")
    assert tree_hash(repo, paths, skip) == commit_tree_hash(repo, "HEAD", paths)


def test_one_tag_rule() -> None:
    assert release_tag("0.2.0") == "v0.2.0"
    assert tag_version("v0.2.0") == Version("0.2.0")
    assert tag_version("v1.0.0rc1") == Version("1.0.0rc1")
    for not_a_release in ("0.2.0", "release-1", "vnext", "latest"):
        assert tag_version(not_a_release) is None


A, B = "a" * 40, "b" * 40
PATHS = 'template-paths = ["copier.yml"]\n'


def _entry(version: str, commit: str = A, tree: str = B) -> str:
    return f'[[release]]\nversion = "{version}"\ncommit = "{commit}"\ntree = "{tree}"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PATHS + '[[release]]\nversion = "0.1"\n', "exactly"),
        (PATHS + _entry("x"), "PEP 440"),
        (PATHS + _entry("0.1.0", commit="abc"), "40-character"),
        (PATHS + _entry("0.2.0") + _entry("0.1.0"), "must increase"),
        (PATHS + _entry("0.2.0.dev0"), "development"),
        (PATHS + _entry("0.02.0"), "write the version as"),
        ('template-paths = ["../x"]\n', "top-level"),
        (PATHS + "releases = []\n", "unknown keys"),
    ],
)
def test_a_malformed_record_is_refused(text: str, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_record(text)


def _clean_clone(tmp_path: Path) -> Path:
    """A clone of this repository as CI makes it: no tags, only what git would commit.

    It is cloned from HEAD, then given the working tree's changes (tracked and
    untracked files that .gitignore does not exclude) as one more commit, so the
    test sees the change under work, as its commit will be.
    """
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-tags", str(ROOT), str(clone)],
        check=True,
        capture_output=True,
    )
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    wanted = {p for p in listed.split("\0") if p}
    for rel in git(clone, "ls-files", "-z").split("\0"):
        if rel and rel not in wanted:
            (clone / rel).unlink()
    for rel in wanted:
        src, dst = ROOT / rel, clone / rel
        if not src.is_file() and not src.is_symlink():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        shutil.copy2(src, dst, follow_symlinks=False)
    git(clone, "add", "--all")
    if git(clone, "status", "--porcelain"):
        git(clone, "commit", "--quiet", "-m", "the working tree under test")
    assert git(clone, "tag", "--list") == ""
    return clone


pytestmark_full = pytest.mark.skipif(
    not _has_full_history(), reason="a shallow clone lacks the release commits"
)


@pytestmark_full
@pytest.mark.slow
def test_a_clean_clone_updates_a_repository_rendered_at_the_recorded_release(
    tmp_path: Path,
) -> None:
    clone = _clean_clone(tmp_path)
    oldest = RECORD.releases[0].tag
    repo = tmp_path / "repo"
    # Rendered at the recorded release, read from the clone: the record, not a tag, finds it.
    proc = run_cli("new", SPEC, "-o", repo, "--templates", clone, "--template-ref", oldest)
    assert proc.returncode == 0, proc.stderr
    assert f"_commit: {oldest}\n" in (repo / ".copier-answers.repo.yml").read_text()
    readme = repo / "README.md"
    readme.write_text(
        readme.read_text().replace(
            "## Changing the platform\n", "## Changing the platform\n\nOurs.\n"
        )
    )
    git(repo, "commit", "--quiet", "-am", "our edit")

    # The clone's platformgen, one template change and one version later, updates it with
    # no --templates: the base comes from the clone's own history through its record.
    template = clone / "templates" / "repo" / "README.md.jinja"
    template.write_text(template.read_text().replace("## Layout\n", "## Layout\n\nNewer.\n"))
    init = clone / "generator" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "999.0.0"', init.read_text()))
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "--no-color", "update", str(repo)],
        cwd=clone,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(clone)},
    )
    assert proc.returncode == 0, proc.stderr
    merged = readme.read_text()
    assert "Newer." in merged and "Ours." in merged
    answers = (repo / ".copier-answers.repo.yml").read_text()
    assert "_commit: v999.0.0\n" in answers
    assert "_src_path: https://github.com/platformgen/platformgen.git\n" in answers


@pytestmark_full
def test_a_source_without_tags_lists_its_recorded_releases(tmp_path: Path) -> None:
    from contextlib import ExitStack

    clone = _clean_clone(tmp_path)
    with ExitStack() as stack:
        source = TemplateSource(str(clone), stack)
        assert [r.tag for r in RECORD.releases] == [
            t for t in source.versions() if t in {r.tag for r in RECORD.releases}
        ]
        assert source.resolve(RECORD.releases[0].tag) == RECORD.releases[0].commit


@pytestmark_full
@pytest.mark.slow
def test_a_wheel_built_from_a_clean_clone_carries_every_release(tmp_path: Path) -> None:
    clone = _clean_clone(tmp_path)
    wheel = build_wheel(clone, tmp_path / "dist", sdist=True)  # sdist, then the wheel from it
    with zipfile.ZipFile(wheel) as zf:
        (tmp_path / "history.bundle").write_bytes(zf.read("generator/_data/history.bundle"))
        names = set(zf.namelist())
    assert "generator/_data/releases.toml" in names
    assert not [n for n in names if "__pycache__" in n and "_data" in n]
    check = tmp_path / "check"
    git(tmp_path, "init", "--quiet", "--bare", str(check))
    git(check, "fetch", "--quiet", str(tmp_path / "history.bundle"), "refs/tags/*:refs/tags/*")
    tags = git(check, "tag", "--list").split()
    assert sorted(tags) == sorted(r.tag for r in RECORD.releases)
    for release in RECORD.releases:
        assert git(check, "rev-parse", f"{release.tag}^{{tree}}").strip() == release.tree


def _break(clone: Path, pattern: str, replacement: str) -> None:
    record = clone / RECORD_FILE
    text = record.read_text()
    new = re.sub(pattern, replacement, text, count=1)
    assert new != text
    record.write_text(new)


@pytestmark_full
@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ((r'commit = "[0-9a-f]{40}"', 'commit = "' + "0" * 40 + '"'), "is not in"),
        ((r'tree = "[0-9a-f]{40}"', 'tree = "' + "0" * 40 + '"'), "but releases.toml records"),
    ],
    ids=["missing-commit", "tree-mismatch"],
)
def test_a_broken_record_fails_the_build(
    tmp_path: Path, breakage: tuple[str, str], message: str
) -> None:
    clone = _clean_clone(tmp_path)
    _break(clone, *breakage)
    proc = build(clone, tmp_path / "dist")
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


@pytestmark_full
@pytest.mark.slow
def test_templates_changed_under_a_released_version_fail_the_build(tmp_path: Path) -> None:
    clone = _clean_clone(tmp_path)
    released = RECORD.releases[-1].version
    init = clone / "generator" / "__init__.py"
    init.write_text(
        re.sub(r'__version__ = "[^"]+"', f'__version__ = "{released}"', init.read_text())
    )
    (clone / "templates" / "repo" / "EXTRA.md").write_text("changed after the release\n")
    proc = build(clone, tmp_path / "dist")
    assert proc.returncode != 0
    assert f"the templates differ from release {released}" in proc.stdout + proc.stderr


@pytestmark_full
@pytest.mark.slow
def test_a_record_tag_pointing_elsewhere_is_refused(tmp_path: Path) -> None:
    clone = _clean_clone(tmp_path)
    release = RECORD.releases[0]
    (clone / "templates" / "repo" / "OTHER.md").write_text("not the release\n")
    git(clone, "add", "--all")
    git(clone, "commit", "--quiet", "-m", "other templates")
    git(clone, "tag", release.tag)
    proc = build(clone, tmp_path / "dist")
    assert proc.returncode != 0
    assert f"the tag {release.tag} holds templates" in proc.stdout + proc.stderr
    # `update`/`new` refuse it too, rather than render a release that is not the recorded one.
    out = tmp_path / "repo"
    proc = run_cli("new", SPEC, "-o", out, "--templates", clone, "--template-ref", release.tag)
    assert proc.returncode == 1
    assert "releases.toml records" in proc.stderr


def test_one_source_for_the_template_paths_and_the_caches() -> None:
    """releases.toml lists the template paths; copier.yml's _exclude the caches. Nothing repeats them."""
    import tomllib

    hatch = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    assert "force-include" not in hatch["targets"]["wheel"]  # hatch_build.py adds them
    assert not set(RECORD.paths) & {p.strip("/") for p in hatch["targets"]["sdist"]["include"]}
    paths_list = re.compile(r"""["']copier\.yml["'],\s*["']templates["']""")
    caches_list = re.compile(r"""["']\*\.pyc["']""")
    files = [ROOT / "hatch_build.py", *(ROOT / "scripts").glob("*.py")]
    for folder in ("generator", "tests", "bench"):
        files += (ROOT / folder).rglob("*.py")
    for file in files:
        if file == Path(__file__):
            continue
        text = file.read_text()
        assert not paths_list.search(text), f"{file} repeats the template paths"
        assert not caches_list.search(text), f"{file} repeats the cache patterns"
