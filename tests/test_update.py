"""Updates: user edits survive a new template version, conflicts are reported, both routes agree.

Scenario of the issue: render v1; edit a generated file and add a file of your
own; change the template; update. Run through `platformgen update` and through
plain `copier update` on the unit, and compare.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GIT_ENV, SPECS, TemplateRepo, git, run_cli, tree

SPEC = SPECS / "small.yaml"
README_TEMPLATE = "templates/repo/README.md.jinja"


def _render_v1(template_repo: TemplateRepo, dest: Path) -> None:
    # --src-path: answers files record the template repository, so plain `copier update`
    # (a teammate's route) finds it.
    proc = run_cli(
        "new", SPEC, "-o", dest, "--templates", template_repo.path,
        "--src-path", template_repo.path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def _user_edits(repo: Path, *, conflicting: bool) -> None:
    readme = repo / "README.md"
    text = readme.read_text()
    # An edit far from anything the template changes...
    text = text.replace(
        "## Changing the platform\n", "## Changing the platform\n\nOn call: #tiny-oncall.\n"
    )
    if conflicting:
        # ...and one on the very line the template changes.
        text = text.replace("Every task is a `make` target;", "Every task is a make target (ours);")
    readme.write_text(text)
    (repo / "NOTES.md").write_text("our own file\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "our edits")


def _template_v2(template_repo: TemplateRepo) -> None:
    template_repo.edit(
        README_TEMPLATE,
        lambda t: t.replace(
            "Every task is a `make` target;", "Every task is a `make` target, and only that;"
        ).replace("## Layout\n", "## Layout\n\nTemplates v1.1.0 added this line.\n"),
    )
    template_repo.tag("v1.1.0", "templates v1.1.0")


@pytest.mark.parametrize("conflicting", [False, True], ids=["clean-merge", "conflict"])
def test_platformgen_update_keeps_edits_and_applies_the_template_change(
    template_repo: TemplateRepo, tmp_path: Path, conflicting: bool
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _user_edits(repo, conflicting=conflicting)
    _template_v2(template_repo)

    proc = run_cli("update", repo, "--templates", template_repo.path)

    readme = (repo / "README.md").read_text()
    assert "On call: #tiny-oncall." in readme  # our edit kept
    assert "Templates v1.1.0 added this line." in readme  # template change applied
    assert (repo / "NOTES.md").read_text() == "our own file\n"  # our file untouched
    answers = yaml.safe_load((repo / ".copier-answers.repo.yml").read_text())
    assert answers["_commit"] == "v1.1.0"
    if conflicting:
        assert proc.returncode == 3, proc.stderr
        assert "CONFLICT README.md" in proc.stderr
        assert "<<<<<<< before updating" in readme
        assert "Every task is a make target (ours);" in readme
        assert "Every task is a `make` target, and only that;" in readme
        assert ">>>>>>> after updating" in readme
    else:
        assert proc.returncode == 0, proc.stderr
        assert "<<<<<<<" not in readme
        assert "Every task is a `make` target, and only that;" in readme


def _plain_copier_update(unit: Path, answers_file: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "update",
            "--defaults",
            "--quiet",
            "--answers-file",
            answers_file,
            "--vcs-ref",
            "v1.1.0",
            ".",
        ],
        cwd=unit,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("conflicting", [False, True], ids=["clean-merge", "conflict"])
def test_plain_copier_update_on_a_unit_gives_the_same_result(
    template_repo: TemplateRepo, tmp_path: Path, conflicting: bool
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "copier"
    _render_v1(template_repo, ours)
    _user_edits(ours, conflicting=conflicting)
    shutil.copytree(ours, theirs, symlinks=True)
    _template_v2(template_repo)

    run_cli("update", ours, "--templates", template_repo.path)
    # By hand, as a developer of the generated repo would: plain copier, unit by unit.
    # copier wants a clean repository, so commit after each; root units go last (the
    # repo unit is the one that may conflict).
    answers_files = sorted(
        theirs.rglob(".copier-answers.*.yml"), key=lambda p: (p.parent == theirs, str(p))
    )
    assert answers_files
    for answers in answers_files:
        _plain_copier_update(answers.parent, answers.name)
        if answers != answers_files[-1]:
            git(theirs, "add", "--all")
            git(theirs, "commit", "--quiet", "--allow-empty", "-m", f"copier update {answers}")
    assert tree(ours) == tree(theirs)


def test_update_with_no_template_change_changes_nothing(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _user_edits(repo, conflicting=True)
    before = tree(repo)
    proc = run_cli("update", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "unchanged" in proc.stderr
    assert tree(repo) == before


def test_units_added_to_the_spec_are_created_and_removed_ones_reported(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    # Template v1.1.0 adds a per-app area.
    (template_repo.path / "templates" / "notes").mkdir()
    (template_repo.path / "templates" / "notes" / "NOTES.md.jinja").write_text(
        "# {{ spec.apps[0].name }} ({{ spec.apps[0].kind }})\n"
    )
    (
        template_repo.path / "templates" / "notes" / "{{ _copier_conf.answers_file }}.jinja"
    ).write_text('{% include "templates/_shared/answers.yml.jinja" %}')
    template_repo.edit(
        "copier.yml", lambda t: t.replace("    - repo\n", "    - repo\n    - notes\n")
    )
    template_repo.tag("v1.0.1")
    template_repo.edit(
        "templates/areas.yml",
        lambda t: t + '- name: notes\n  scope: app\n  dest: "notes/{key}"\n',
    )
    template_repo.tag("v1.1.0")

    repo = tmp_path / "repo"
    proc = run_cli(
        "new", SPEC, "-o", repo, "--templates", template_repo.path, "--template-ref", "v1.0.1"
    )
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "notes").exists()

    proc = run_cli("update", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "notes" / "api" / "NOTES.md").read_text() == "# api (api)\n"
    assert "notes:api" in proc.stderr and "created" in proc.stderr
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "update")

    # Add a worker, render; then drop it from the spec and render again.
    spec = repo / "platform.yaml"
    original = spec.read_text()
    with_jobs = original.replace(
        "  - name: api\n    kind: api\n",
        "  - name: api\n    kind: api\n  - name: jobs\n    kind: worker\n",
    )
    assert with_jobs != original
    spec.write_text(with_jobs)
    git(repo, "commit", "--quiet", "-am", "add jobs")
    proc = run_cli("render", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "notes" / "jobs" / "NOTES.md").read_text() == "# jobs (worker)\n"
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "render jobs")
    spec.write_text(original)
    git(repo, "commit", "--quiet", "-am", "drop jobs")
    proc = run_cli("render", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "notes:jobs" in proc.stderr and "removed from spec" in proc.stderr
    assert "left in place" in proc.stderr
    assert (repo / "notes" / "jobs" / "NOTES.md").exists()  # reported, never deleted


def test_update_refuses_a_dirty_repository(template_repo: TemplateRepo, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    (repo / "README.md").write_text("uncommitted\n")
    _template_v2(template_repo)
    proc = run_cli("update", repo, "--templates", template_repo.path)
    assert proc.returncode == 1
    assert "uncommitted changes (README.md)" in proc.stderr
    assert (repo / "README.md").read_text() == "uncommitted\n"


def test_update_needs_the_old_version_and_says_where_it_looked(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _template_v2(template_repo)
    # The recorded _src_path is gone, and the repository we point at lost the tag.
    elsewhere = tmp_path / "other-templates"
    template_repo.path.rename(elsewhere)
    git(elsewhere, "tag", "-d", "v1.0.0")
    proc = run_cli("update", repo, "--templates", elsewhere)
    assert proc.returncode == 1
    assert "template version v1.0.0" in proc.stderr and "was not found" in proc.stderr
    assert "--templates" in proc.stderr


def test_render_refuses_when_the_template_version_moved(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _template_v2(template_repo)
    proc = run_cli("render", repo, "--templates", template_repo.path)
    assert proc.returncode == 1
    assert "platformgen update" in proc.stderr


def test_history_from_a_git_bundle(template_repo: TemplateRepo, tmp_path: Path) -> None:
    """A git bundle of the template history (what the wheel ships) serves old versions."""
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _user_edits(repo, conflicting=False)
    _template_v2(template_repo)
    bundle = tmp_path / "history.bundle"
    git(template_repo.path, "bundle", "create", str(bundle), "--tags")
    proc = run_cli("update", repo, "--templates", bundle)
    assert proc.returncode == 0, proc.stderr
    readme = (repo / "README.md").read_text()
    assert "Templates v1.1.0 added this line." in readme
    assert "On call: #tiny-oncall." in readme


def _answers(repo: Path) -> list[dict[str, object]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(repo.rglob(".copier-answers.*.yml"))]


def test_update_refuses_a_downgrade_unless_asked(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _template_v2(template_repo)
    assert run_cli("update", repo, "--templates", template_repo.path).returncode == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "update to v1.1.0")
    before = tree(repo)

    back = ("--templates", template_repo.path, "--template-ref", "v1.0.0")
    for command in (("update",), ("diff", "--update")):
        proc = run_cli(*command, repo, *back)
        assert proc.returncode == 1, proc.stderr
        assert "newer than v1.0.0" in proc.stderr and "--allow-downgrade" in proc.stderr
        assert tree(repo) == before

    proc = run_cli("update", repo, *back, "--allow-downgrade")
    assert proc.returncode == 0, proc.stderr
    assert {a["_commit"] for a in _answers(repo)} == {"v1.0.0"}
    assert "Templates v1.1.0 added this line." not in (repo / "README.md").read_text()


def test_render_with_older_templates_says_to_upgrade_not_update(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    _render_v1(template_repo, repo)
    _template_v2(template_repo)
    assert run_cli("update", repo, "--templates", template_repo.path).returncode == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "update to v1.1.0")
    proc = run_cli("render", repo, "--templates", template_repo.path, "--template-ref", "v1.0.0")
    assert proc.returncode == 1
    assert "newer than the v1.0.0" in proc.stderr
    assert "upgrade platformgen" in proc.stderr
    assert "run `platformgen update`" not in proc.stderr


def test_local_templates_never_replace_the_recorded_source(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    stable = "https://git.example.com/platform/templates.git"
    repo = tmp_path / "repo"
    # --templates says where to read the templates now; answers files record the stable source.
    proc = run_cli(
        "new", SPEC, "-o", repo, "--templates", template_repo.path,
        env={"PLATFORMGEN_TEMPLATE_URL": stable},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert {a["_src_path"] for a in _answers(repo)} == {stable}

    # An update from a local checkout keeps it, also for a unit the update adds...
    _template_v2(template_repo)
    spec = repo / "platform.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - name: api\n    kind: api\n",
            "  - name: api\n    kind: api\n  - name: jobs\n    kind: worker\n",
        )
    )
    git(repo, "commit", "--quiet", "-am", "add jobs")
    proc = run_cli("update", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "deploy" / "helm" / "jobs" / ".copier-answers.helm.yml").exists()
    assert {a["_src_path"] for a in _answers(repo)} == {stable}
    assert {a["_commit"] for a in _answers(repo)} == {"v1.1.0"}
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "update")
    assert run_cli("check", repo, "--templates", template_repo.path).returncode == 0

    # ...and only --src-path changes it, in every answers file.
    moved = "https://git.example.com/platform/templates-v2.git"
    proc = run_cli("render", repo, "--templates", template_repo.path, "--src-path", moved)
    assert proc.returncode == 0, proc.stderr
    assert {a["_src_path"] for a in _answers(repo)} == {moved}
