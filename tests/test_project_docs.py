"""Docs and template-set metadata that must stay in step with the code."""

from __future__ import annotations

import yaml
from conftest import ROOT

from generator.spec.reference_doc import render


def test_spec_reference_is_generated_from_the_schema() -> None:
    committed = (ROOT / "docs" / "spec-reference.md").read_text()
    assert committed == render(), (
        "run: .venv/bin/python -m generator.spec.reference_doc > docs/spec-reference.md"
    )


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
