"""A failed render leaves everything as it was; `check` finds drift; the CLI is documented."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, SPECS, TemplateRepo, git, run_cli, tree

from generator.engine.templates import current_ref

SPEC = SPECS / "small.yaml"


def _break_template(template_repo: TemplateRepo, tag: str) -> None:
    """A template whose last file fails to render (an undefined variable)."""
    (template_repo.path / "templates" / "repo" / "zz-last.md.jinja").write_text(
        "{{ spec.project.name }} {{ spec.no_such_field.anything }}\n"
    )
    template_repo.tag(tag)


def test_new_that_fails_mid_render_leaves_no_folder(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    _break_template(template_repo, "v1.1.0")
    parent = tmp_path / "out"
    parent.mkdir()
    proc = run_cli("new", SPEC, "-o", parent / "repo", "--templates", template_repo.path)
    assert proc.returncode == 1
    assert "rendering unit repo" in proc.stderr and "no_such_field" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(parent.iterdir()) == []


def test_update_that_fails_mid_render_leaves_the_repository_untouched(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    assert run_cli("new", SPEC, "-o", repo, "--templates", template_repo.path).returncode == 0
    template_repo.edit("templates/repo/README.md.jinja", lambda t: t + "\nA change that renders.\n")
    _break_template(template_repo, "v1.1.0")
    before = tree(repo)
    proc = run_cli("update", repo, "--templates", template_repo.path)
    assert proc.returncode == 1
    assert tree(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_a_write_that_fails_half_way_is_rolled_back(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    """A real OS failure mid-apply (an immutable folder) rolls back the files already written."""
    repo = tmp_path / "repo"
    assert run_cli("new", SPEC, "-o", repo, "--templates", template_repo.path).returncode == 0
    template_repo.edit("templates/repo/README.md.jinja", lambda t: t + "\nREADME v2.\n")
    template_repo.edit("templates/repo/docs/README.md.jinja", lambda t: t + "\nDocs v2.\n")
    template_repo.tag("v1.1.0")
    before = tree(repo)
    docs = repo / "docs"
    chattr = subprocess.run(["chattr", "+i", str(docs)], capture_output=True, text=True)
    if chattr.returncode != 0:
        pytest.fail(f"this test needs chattr +i on {docs} (ext4 and root): {chattr.stderr}")
    try:
        proc = run_cli("update", repo, "--templates", template_repo.path)
    finally:
        subprocess.run(["chattr", "-i", str(docs)], check=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    # README.md (written before docs/README.md failed) is back to its old bytes.
    assert tree(repo) == before
    assert not list(repo.rglob("*.platformgen-tmp"))


@pytest.fixture
def rendered_small(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    proc = run_cli("new", SPEC, "-o", repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def test_check_passes_on_a_fresh_render(rendered_small: Path) -> None:
    proc = run_cli("check", rendered_small)
    assert proc.returncode == 0, proc.stderr
    assert "no drift" in proc.stderr


def test_check_finds_edited_missing_and_unrendered_changes(rendered_small: Path) -> None:
    repo = rendered_small
    (repo / "README.md").write_text("hand edit\n")
    (repo / "docs" / "README.md").unlink()
    # The Makefile names the spec's region, which this test changes: a static file of the
    # same unit shows a mode-only change.
    (repo / "delivery" / "platform.mk").chmod(0o755)
    spec = repo / "platform.yaml"
    spec.write_text(spec.read_text().replace("region: eu-west-1", "region: eu-west-2"))
    proc = run_cli("check", repo, "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["command"] == "check" and report["ok"] is False and report["exitCode"] == 1
    drift = {f["file"]: (f["code"], f["message"], f["unit"]) for f in report["findings"]}
    assert drift["README.md"] == ("check.content", "content differs", "repo")
    assert drift["docs/README.md"] == ("check.missing", "missing", "repo")
    assert drift["delivery/platform.mk"] == ("check.mode", "executable bit differs", "repo")
    assert drift["Makefile"] == ("check.content", "content differs", "repo")
    # The spec changed but was not rendered: the answers file no longer matches.
    assert drift[".copier-answers.repo.yml"][0] == "check.content"
    assert report["summary"]["errors"] == len(report["findings"])


def test_check_reports_listed_local_changes_as_notes(rendered_small: Path) -> None:
    repo = rendered_small
    spec = repo / "platform.yaml"
    spec.write_text(spec.read_text() + "localChanges:\n  - README.md\n")
    assert run_cli("render", repo, "--allow-dirty").returncode == 0
    (repo / "README.md").write_text("our README\n")
    proc = run_cli("check", repo)
    assert proc.returncode == 0, proc.stderr
    assert "README.md: content differs (listed in localChanges)" in proc.stderr


def test_check_finds_a_unit_rendered_with_another_template_version(rendered_small: Path) -> None:
    answers = rendered_small / ".copier-answers.repo.yml"
    text = answers.read_text()
    assert f"_commit: {current_ref()}" in text
    answers.write_text(text.replace(f"_commit: {current_ref()}", "_commit: v0.0.9"))
    proc = run_cli("check", rendered_small)
    assert proc.returncode == 1
    assert "rendered with templates v0.0.9" in proc.stderr


def test_diff_shows_changes_and_writes_nothing(rendered_small: Path) -> None:
    repo = rendered_small
    spec = repo / "platform.yaml"
    spec.write_text(
        spec.read_text().replace("domain: tiny.example.com", "domain: tiny.example.org")
    )
    git(repo, "commit", "--quiet", "-am", "new domain")
    before = tree(repo)
    proc = run_cli("diff", repo)
    assert proc.returncode == 0, proc.stderr
    assert (
        "-| dev | development | `123456789012` | eu-west-1 | dev.tiny.example.com |" in proc.stdout
    )
    assert (
        "+| dev | development | `123456789012` | eu-west-1 | dev.tiny.example.org |" in proc.stdout
    )
    assert "nothing was written" in proc.stderr
    assert tree(repo) == before
    assert run_cli("render", repo).returncode == 0
    assert "dev.tiny.example.org" in (repo / "README.md").read_text()


def test_new_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    proc = run_cli("new", SPEC, "-o", tmp_path)
    assert proc.returncode == 1
    assert "not empty" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_new_creates_a_git_repository_with_one_commit(rendered_small: Path) -> None:
    assert (
        git(rendered_small, "log", "--format=%s").strip().startswith("Render tiny with platformgen")
    )
    assert git(rendered_small, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "command", ["validate", "show", "new", "render", "diff", "update", "check"]
)
def test_every_command_has_help_with_examples(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout
    assert f"platformgen {command}" in proc.stdout


def test_bad_usage_exits_2() -> None:
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("validate").returncode == 2
    assert run_cli("validate", REFERENCE_SPEC, "--format", "xml").returncode == 2


def test_check_drift_lines_name_the_unit(rendered_small: Path) -> None:
    (rendered_small / "deploy/helm/api/values.yaml").write_text("edited\n")
    proc = run_cli("check", rendered_small)
    assert proc.returncode == 1
    assert "drift: helm:api: deploy/helm/api/values.yaml: content differs" in proc.stderr
    report = json.loads(run_cli("check", rendered_small, "--format", "json").stdout)
    drift = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["unit"], f["file"], f["code"], f["message"]) for f in drift] == [
        ("helm:api", "deploy/helm/api/values.yaml", "check.content", "content differs")
    ]


def test_diff_exits_3_on_conflicts_like_the_update_it_previews(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    assert run_cli("new", SPEC, "-o", repo, "--templates", template_repo.path).returncode == 0
    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace("## Layout\n", "## Layout\n\nOurs.\n"))
    git(repo, "commit", "--quiet", "-am", "our line")
    template_repo.edit(
        "templates/repo/README.md.jinja",
        lambda t: t.replace("## Layout\n", "## Layout\n\nTheirs.\n"),
    )
    template_repo.tag("v1.1.0")
    before = tree(repo)
    proc = run_cli("diff", repo, "--update", "--templates", template_repo.path)
    assert proc.returncode == 3, proc.stderr
    assert "CONFLICT README.md" in proc.stderr
    assert tree(repo) == before


def test_render_in_a_monorepo_folder_refuses_uncommitted_changes(tmp_path: Path) -> None:
    """The generated repository is a folder of a bigger git repository, not its root."""
    mono = tmp_path / "mono"
    assert run_cli("new", SPEC, "-o", mono / "platform").returncode == 0
    shutil.rmtree(mono / "platform" / ".git")
    (mono / "app.txt").write_text("another project\n")
    git(mono, "init", "--quiet", "--initial-branch=main")
    git(mono, "add", "--all")
    git(mono, "commit", "--quiet", "-m", "monorepo")
    repo = mono / "platform"
    spec = repo / "platform.yaml"
    spec.write_text(spec.read_text().replace("tiny.example.com", "tiny.example.org"))
    git(mono, "commit", "--quiet", "-am", "new domain")
    (repo / "README.md").write_text("uncommitted edit\n")
    (repo / "docs" / "scratch.md").write_text("untracked\n")
    proc = run_cli("render", repo)
    assert proc.returncode == 1
    assert "uncommitted changes (README.md, docs/scratch.md)" in proc.stderr
    assert (repo / "README.md").read_text() == "uncommitted edit\n"
    # Changes elsewhere in the monorepo are not the generated repository's.
    git(mono, "checkout", "--", "platform/README.md")
    (repo / "docs" / "scratch.md").unlink()
    (mono / "app.txt").write_text("their uncommitted work\n")
    proc = run_cli("render", repo)
    assert proc.returncode == 0, proc.stderr
    assert "tiny.example.org" in (repo / "README.md").read_text()


def test_new_under_a_file_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder\n")
    for out in (tmp_path / "file" / "repo", tmp_path / "file" / "deeper" / "repo"):
        proc = run_cli("new", REFERENCE_SPEC, "-o", out)
        assert proc.returncode == 1, proc.stderr
        assert f"{tmp_path / 'file'} is a file, not a folder" in proc.stderr
        assert "unexpected error" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
