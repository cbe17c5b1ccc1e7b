"""Renamed and removed apps: edits move with a renamed app, and `check` says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SPECS, git, run_cli, tree

from generator.spec import load_spec_text

SPEC = SPECS / "small.yaml"
SERVICE_README_EDIT = "\nOur runbook: https://wiki.example.com/api-oncall\n"
ROUTES_EDIT = "# Our note on the routes.\n"


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """The small spec rendered, with edits to the app's generated files and a file of ours."""
    repo = tmp_path / "repo"
    proc = run_cli("new", SPEC, "-o", repo)
    assert proc.returncode == 0, proc.stderr
    readme = repo / "services/api/README.md"
    readme.write_text(readme.read_text() + SERVICE_README_EDIT)
    routes = repo / "services/api/src/api/routes.py"
    routes.write_text(routes.read_text() + ROUTES_EDIT)
    (repo / "services/api/src/api/extra.py").write_text("OURS = 1\n")
    (repo / "services/api/notes").mkdir()
    (repo / "services/api/notes/todo.md").write_text("ours\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "our edits")
    return repo


def _rename(repo: Path, *, renamed_from: bool) -> None:
    spec = repo / "platform.yaml"
    text = spec.read_text()
    new = "  - name: orders\n" + ("    renamedFrom: api\n" if renamed_from else "")
    assert "  - name: api\n" in text
    spec.write_text(text.replace("  - name: api\n", new))
    git(repo, "commit", "--quiet", "-am", "rename api to orders")


def test_a_renamed_app_moves_its_files_with_the_users_edits(edited: Path, tmp_path: Path) -> None:
    repo = edited
    _rename(repo, renamed_from=True)
    before = tree(repo)
    proc = run_cli("diff", repo)
    assert proc.returncode == 0, proc.stderr
    assert tree(repo) == before
    proc = run_cli("render", repo)
    assert proc.returncode == 0, proc.stderr
    assert "renamed from services/api" in proc.stderr
    assert "renamed from deploy/helm/api" in proc.stderr
    assert not (repo / "services/api").exists() and not (repo / "deploy/helm/api").exists()

    # What a fresh render of the renamed spec gives (renamedFrom changes no rendered file).
    fresh_spec = tmp_path / "fresh.yaml"
    fresh_spec.write_text(
        (repo / "platform.yaml").read_text().replace("    renamedFrom: api\n", "")
    )
    fresh = tmp_path / "fresh"
    assert run_cli("new", fresh_spec, "-o", fresh).returncode == 0
    expected = tree(fresh)
    expected.pop("platform.yaml")
    got = tree(repo)
    got.pop("platform.yaml")
    readme, routes = "services/orders/README.md", "services/orders/src/orders/routes.py"
    # The rename is merged into the edited files, and the edits are kept.
    assert got.pop(readme)[0].decode() == expected.pop(readme)[0].decode() + SERVICE_README_EDIT
    assert got.pop(routes)[0].decode() == expected.pop(routes)[0].decode() + ROUTES_EDIT
    assert "# orders" in (repo / readme).read_text()
    # Our own files moved with the folders they were in.
    assert got.pop("services/orders/src/orders/extra.py") == (b"OURS = 1\n", False)
    assert got.pop("services/orders/notes/todo.md") == (b"ours\n", False)
    assert got == expected

    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "render the rename")
    proc = run_cli("check", repo, "--format", "json")
    report = json.loads(proc.stdout)
    drift = [f for f in report["findings"] if f["severity"] == "error"]
    notes = [f["message"] for f in report["findings"] if f["severity"] == "note"]
    assert {f["file"] for f in drift} == {readme, routes}  # our edits, nothing else
    assert any("remove `renamedFrom: api`" in n for n in notes)
    # Removing renamedFrom afterwards changes nothing.
    spec = repo / "platform.yaml"
    spec.write_text(spec.read_text().replace("    renamedFrom: api\n", ""))
    git(repo, "commit", "--quiet", "-am", "drop renamedFrom")
    before = tree(repo)
    proc = run_cli("render", repo)
    assert proc.returncode == 0, proc.stderr
    assert tree(repo) == before
    assert "renamedFrom" not in proc.stderr


def test_check_says_to_render_a_rename_that_is_not_rendered_yet(edited: Path) -> None:
    _rename(edited, renamed_from=True)
    proc = run_cli("check", edited)
    assert proc.returncode == 1
    assert (
        "drift: service:orders: services/orders: app api is renamed to orders (renamedFrom), "
        "and its files are still in services/api/" in proc.stderr
    )
    assert "fix: run `platformgen render`: it moves them, with your edits, to services/orders/" in (
        proc.stderr
    )
    assert "missing" not in proc.stderr  # one line per unit, not one per file


def test_a_rename_never_overwrites_what_is_at_the_new_name(edited: Path) -> None:
    (edited / "deploy/helm/orders").mkdir(parents=True)
    (edited / "deploy/helm/orders/values.yaml").write_text("someone else's\n")
    git(edited, "add", "--all")
    git(edited, "commit", "--quiet", "-m", "a chart of our own")
    _rename(edited, renamed_from=True)
    before = tree(edited)
    proc = run_cli("render", edited)
    assert proc.returncode == 1
    assert "deploy/helm/orders/values.yaml is already there" in proc.stderr
    assert tree(edited) == before


def test_check_on_a_removed_app_says_what_to_delete_or_how_to_rename(edited: Path) -> None:
    _rename(edited, renamed_from=False)
    proc = run_cli("check", edited, "--format", "json")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    drift = {f["unit"]: f for f in findings if f["severity"] == "error"}
    service = drift["service:api"]
    assert service["file"] == "services/api"
    assert service["code"] == "check.unit-removed"
    assert "no longer in the spec" in service["message"]
    assert "`git rm -r services/api/`" in service["fix"]
    assert "2 file(s) of yours" in service["fix"] and "extra.py" in service["fix"]
    assert "renamedFrom: api" in service["fix"]
    assert "`git rm -r deploy/helm/api/`" in drift["helm:api"]["fix"]
    # Adding renamedFrom, as the advice says, then moves the edits.
    spec = edited / "platform.yaml"
    spec.write_text(
        spec.read_text().replace("  - name: orders\n", "  - name: orders\n    renamedFrom: api\n")
    )
    git(edited, "commit", "--quiet", "-am", "say where orders came from")
    proc = run_cli("render", edited)
    assert proc.returncode == 0, proc.stderr
    assert (edited / "services/orders/src/orders/extra.py").read_text() == "OURS = 1\n"


def test_check_on_a_removed_unit_at_the_root_lists_its_files_not_the_root(edited: Path) -> None:
    spec = edited / "platform.yaml"
    text = spec.read_text()
    spec.write_text(text[: text.index("database:")])
    git(edited, "commit", "--quiet", "-am", "no database")
    proc = run_cli("check", edited)
    assert proc.returncode == 1
    line = next(x for x in proc.stderr.splitlines() if "git rm -r" in x and "database" in x)
    assert ".copier-answers.database.yml" in line and "database/" in line
    assert "git rm -r ./" not in line and "git rm -r . " not in line
    assert "drift: database: .: unit database is no longer in the spec" in proc.stderr


@pytest.mark.parametrize(
    ("value", "code"),
    [("Api", "schema.pattern"), ("a", "schema.pattern"), ("api_v1", "schema.pattern")],
)
def test_renamed_from_must_be_a_valid_app_name(value: str, code: str) -> None:
    text = SPEC.read_text().replace(
        "  - name: api\n", f"  - name: orders\n    renamedFrom: {value}\n"
    )
    result = load_spec_text(text, "platform.yaml")
    errors = [d for d in result.errors if d.path == "apps[0].renamedFrom"]
    assert errors, [d.format() for d in result.diagnostics]
    assert (errors[0].line, errors[0].code) == (14, code)
