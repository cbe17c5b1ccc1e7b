"""Docs and template-set metadata that must stay in step with the code."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT
from support.scripts import load_script, run_script


def test_spec_reference_is_generated_from_the_schema() -> None:
    committed = (ROOT / "docs" / "spec-reference.md").read_text()
    assert committed == load_script("spec_docs").spec_reference(), "run `make docs`"


def test_generated_docs_check_passes() -> None:
    """`scripts/spec_docs.py --check`, as a developer runs it, finds every page current."""
    proc = run_script("spec_docs", "--check")
    assert proc.returncode == 0, proc.stderr


def test_copier_area_choices_match_areas_yml() -> None:
    copier = yaml.safe_load((ROOT / "copier.yml").read_text())
    areas = yaml.safe_load((ROOT / "templates" / "areas.yml").read_text())
    assert copier["area"]["choices"] == [a["name"] for a in areas]


def test_every_area_folder_writes_its_answers_file() -> None:
    areas = yaml.safe_load((ROOT / "templates" / "areas.yml").read_text())
    for area in areas:
        answers = ROOT / "templates" / area["name"] / "{{ _copier_conf.answers_file }}.jinja"
        assert answers.read_text().strip() == '{% include "templates/_shared/answers.yml.jinja" %}'


def test_readme_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:15])
    assert "make run" in first_screen and "make test" in first_screen


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_cited_test_files_and_functions_exist() -> None:
    """Code and docs that cite a test (`tests/test_x.py`, or `test_fn` in tests/test_x.py) name
    one that exists, so the proof they point at can be found."""
    # tests/... of this project, or dbkit/tests/... of the kit (never the tail of another path)
    cite = re.compile(r"(?:`(test_[a-z0-9_]+)` in )?(?<![\w/.-])((?:dbkit/)?tests/[a-z0-9_/]+\.py)")
    sources = [
        *ROOT.joinpath("generator").rglob("*.py"),
        *ROOT.joinpath("docs").rglob("*.md"),
        *ROOT.joinpath("dbkit").rglob("*.md"),
        *ROOT.joinpath("templates").rglob("*.md"),
        ROOT / "README.md",
        ROOT / "Makefile",
    ]
    problems = []
    for source in sources:
        for function, cited in cite.findall(source.read_text()):
            target = ROOT / cited
            if not target.is_file():
                problems.append(f"{source.relative_to(ROOT)} cites {cited}, which does not exist")
            elif function and f"def {function}(" not in target.read_text():
                problems.append(
                    f"{source.relative_to(ROOT)} cites {function} in {cited}: not there"
                )
    assert not problems, "\n".join(problems)
