"""scripts/terraform_docs.py: module READMEs whose generated part lies between the
terraform-docs markers, so authors write prose around it.

Each test runs the script as a developer does, on a copy of real modules of the
template set, and checks what it writes, keeps and refuses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from support.scripts import load_script, run_script

MODULES = ROOT / "templates" / "terraform" / "infra" / "modules"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    """Two modules of the template set, copied with their README and tests."""
    root = tmp_path / "modules"
    for name in ("foundation", "bucket"):
        shutil.copytree(MODULES / name, root / name, ignore=shutil.ignore_patterns(".terraform"))
    return root


def _part(readme: str) -> str:
    """The text between the markers, markers included."""
    return readme[readme.index(BEGIN) : readme.index(END) + len(END)]


def test_only_the_part_between_the_markers_is_rewritten(modules: Path) -> None:
    readme = modules / "foundation" / "README.md"
    fresh_part = _part(readme.read_text())
    before = "# The foundation\n\nWritten by us: why one key per environment.\n\n"
    after = "\n## Operating it\n\nRotate nothing by hand.\n"
    readme.write_text(f"{before}{BEGIN}\nan old table\n{END}\n{after}")

    check = run_script("terraform_docs", "--check", modules)
    assert check.returncode == 1
    assert "foundation/README.md: the part between the markers is stale" in check.stderr
    assert "bucket" not in check.stderr

    assert run_script("terraform_docs", modules).returncode == 0
    assert readme.read_text() == f"{before}{fresh_part}\n{after}"
    assert run_script("terraform_docs", "--check", modules).returncode == 0
    again = run_script("terraform_docs", modules)
    assert again.returncode == 0 and again.stdout == ""  # nothing left to write


def test_a_changed_variable_makes_the_readme_stale(modules: Path) -> None:
    variables = modules / "foundation" / "variables.tf"
    text = variables.read_text()
    described = 'description = "'
    assert described in text
    variables.write_text(text.replace(described, 'description = "Renamed: ', 1))

    check = run_script("terraform_docs", "--check", modules)
    assert check.returncode == 1 and "is stale" in check.stderr
    assert run_script("terraform_docs", modules).returncode == 0
    assert "Renamed: " in _part((modules / "foundation" / "README.md").read_text())


def test_a_readme_without_markers_fails_the_check_then_gets_them(modules: Path) -> None:
    readme = modules / "foundation" / "README.md"
    readme.write_text("# Foundation\n\nHand-written, no markers.")

    check = run_script("terraform_docs", "--check", modules)
    assert check.returncode == 1
    assert f"foundation/README.md: has no {BEGIN} / {END} markers" in check.stderr
    # --check writes nothing
    assert readme.read_text() == "# Foundation\n\nHand-written, no markers."

    written = run_script("terraform_docs", modules)
    assert written.returncode == 0 and "appended the markers" in written.stdout
    text = readme.read_text()
    assert text.startswith(f"# Foundation\n\nHand-written, no markers.\n\n{BEGIN}\n")
    assert text.endswith(f"{END}\n")
    assert run_script("terraform_docs", "--check", modules).returncode == 0


@pytest.mark.parametrize(
    "broken",
    [
        f"{BEGIN}\n{BEGIN}\nx\n{END}\n",  # repeated
        f"{END}\nx\n{BEGIN}\n",  # out of order
        f"# Title\n\n{BEGIN}\nno end\n",  # one missing
    ],
    ids=["repeated", "out-of-order", "end-missing"],
)
def test_broken_markers_are_refused_and_nothing_is_written(modules: Path, broken: str) -> None:
    readme = modules / "foundation" / "README.md"
    readme.write_text(broken)
    other = modules / "bucket" / "README.md"
    stale_other = other.read_text().replace("## Inputs", "## Inputs (old)")
    other.write_text(stale_other)

    for args in (("--check",), ()):
        proc = run_script("terraform_docs", *args, modules)
        assert proc.returncode == 1
        assert "foundation/README.md: has " in proc.stderr
        assert "keep exactly one of each" in proc.stderr
    assert "nothing was written" in proc.stderr
    assert readme.read_text() == broken
    assert other.read_text() == stale_other  # the valid, stale one waits too


def test_a_new_module_gets_a_readme_with_its_title(modules: Path) -> None:
    (modules / "foundation" / "README.md").unlink()
    check = run_script("terraform_docs", "--check", modules)
    assert check.returncode == 1 and "foundation/README.md: missing" in check.stderr
    assert not (modules / "foundation" / "README.md").exists()

    assert run_script("terraform_docs", modules).returncode == 0
    text = (modules / "foundation" / "README.md").read_text()
    assert text.startswith(f"# Module `foundation`\n\n{BEGIN}\n")
    assert _part(text) == _part((MODULES / "foundation" / "README.md").read_text())


def test_the_header_comment_keeps_its_paragraphs_and_lists(tmp_path: Path) -> None:
    main = tmp_path / "main.tf"
    main.write_text(
        "# A VPC with three tiers:\n"
        "#   public   - the load balancer\n"
        "#   private  - the nodes\n"
        "# Flow logs record every\n"
        "# connection.\n"
        "#\n"
        "# The password never enters state:\n"
        "# - without replicas, RDS manages it\n"
        "#   (manage_master_user_password);\n"
        "# - with replicas, an ephemeral one.\n"
        "\n"
        "# not the header\n"
        'resource "x" "y" {}\n'
    )
    assert load_script("terraform_docs").header(main) == (
        "A VPC with three tiers:\n"
        "\n"
        "- public - the load balancer\n"
        "- private - the nodes\n"
        "\n"
        "Flow logs record every connection.\n"
        "\n"
        "The password never enters state:\n"
        "\n"
        "- without replicas, RDS manages it (manage_master_user_password);\n"
        "- with replicas, an ephemeral one."
    )


def test_a_missing_modules_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_script("terraform_docs", "--check", tmp_path / "nope")
    assert proc.returncode == 2 and "not a folder of Terraform modules" in proc.stderr
