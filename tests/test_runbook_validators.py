"""The runbook and picture validators (tests/validators/runbooks.py) catch what they are
for: each check below breaks one thing in a copy of the rendered reference and shows the
validator fail on it, naming it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR, REFERENCE_SPEC
from validators import RenderedRepo, runbooks

from generator.spec import load_spec


@pytest.fixture
def reference(tmp_path: Path) -> RenderedRepo:
    """A private copy of the committed reference (examples/getprospa/repo), so no render."""
    root = tmp_path / "repo"
    shutil.copytree(REFERENCE_DIR / "repo", root, ignore=shutil.ignore_patterns(".git"))
    resolved = load_spec(REFERENCE_SPEC).resolved
    assert resolved is not None
    return RenderedRepo("getprospa", REFERENCE_SPEC, root, resolved)


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def _fails(check: Callable[[RenderedRepo], None], repo: RenderedRepo, needle: str) -> None:
    with pytest.raises(AssertionError) as failure:
        check(repo)
    assert needle in str(failure.value), str(failure.value)


def test_a_make_target_the_repository_lacks_is_named(reference: RenderedRepo) -> None:
    runbook = reference.root / "docs" / "runbooks" / "slow-query-log.md"
    runbook.write_text(runbook.read_text() + "\n```sh\nmake slow-log-fetch ENV=prod\n```\n")
    _fails(runbooks.runbook_make_targets_exist, reference, "make slow-log-fetch")


def test_make_targets_come_from_every_platform_mk(reference: RenderedRepo) -> None:
    targets = runbooks._make_targets(reference)
    # the root Makefile's, and every rule of every included platform.mk
    declared = {
        m[1]
        for mk in reference.root.glob("**/platform.mk")
        for m in re.finditer(r"^([a-z][a-z0-9-]*):(?!=)", mk.read_text(), re.M)
    }
    assert "infra-init" in declared and any(t.startswith("database-") for t in declared)
    assert {"plan", "apply", *declared} <= targets
    code = runbooks._code(
        "`make plan apply ENV=<env>`\n```sh\nmake a \\\n  b X=1 && make c\n```\n"
        "1. a step in a list:\n\n   ```sh\n   make d\n   ```\n"
    )
    invocations = [t for _, t in runbooks._make_invocations(code)]
    assert invocations == [["a", "b"], ["c"], ["d"], ["plan", "apply"]]


def test_a_kit_subcommand_or_option_the_kit_lacks_is_named(reference: RenderedRepo) -> None:
    assert runbooks._kit_problems(["verify", "--tables", "loans", "--workers", "8"]) == []
    assert runbooks._kit_problems(["PLACEHOLDER"]) == []
    assert runbooks._kit_problems(["verify", "--no-such-flag"]) == [
        "dbkit verify has no option --no-such-flag"
    ]
    assert "no subcommand 'restore'" in runbooks._kit_problems(["restore"])[0]
    runbook = reference.root / "docs" / "runbooks" / "rotate-database-credentials.md"
    runbook.write_text(runbook.read_text() + '\n`make database-verify VERIFY_ARGS="--fast"`\n')
    _fails(runbooks.runbook_kit_commands_exist, reference, "dbkit verify has no option --fast")


def test_a_terraform_output_or_address_that_does_not_exist_is_named(
    reference: RenderedRepo,
) -> None:
    runbook = reference.root / "docs" / "runbooks" / "point-in-time-restore.md"
    _edit(runbook, "aws_db_instance.this'", "aws_db_instance.primary'")
    _fails(runbooks.runbook_terraform_references_exist, reference, "no aws_db_instance.primary")
    _edit(runbook, "aws_db_instance.primary'", "aws_db_instance.this'")
    runbook.write_text(
        runbook.read_text() + "\n`terraform -chdir=infra/envs/prod output -json no_such`\n"
    )
    _fails(runbooks.runbook_terraform_references_exist, reference, "no root outputs 'no_such'")


def test_a_broken_link_is_named(reference: RenderedRepo) -> None:
    (reference.root / "docs" / "runbooks" / "slow-query-log.md").unlink()
    _fails(runbooks.runbook_links_resolve, reference, "-> slow-query-log.md")


def test_a_runbook_the_spec_does_not_call_for_is_refused(reference: RenderedRepo) -> None:
    reference.spec["database"]["version"] = "8.4"
    _fails(runbooks.database_runbooks_follow_the_spec, reference, "mysql-major-upgrade.md")


def test_runbook_facts_follow_the_spec(reference: RenderedRepo) -> None:
    reference.spec["environments"]["staging"]["database"]["readReplicas"] = 1
    _fails(runbooks.database_runbooks_say_what_the_spec_says, reference, "staging")


def test_svg_outside_its_canvas_is_refused(reference: RenderedRepo) -> None:
    svg = reference.root / "docs" / "architecture.svg"
    text = svg.read_text()
    width = re.search(r'<svg [^>]*width="(\d+)"', text)
    assert width
    svg.write_text(
        text.replace("</svg>", f'<rect x="{width[1]}" y="0" width="5" height="5"/></svg>')
    )
    _fails(runbooks.svgs_are_well_formed_and_inside_their_canvas, reference, "architecture.svg")


def test_timeline_freeze_must_cover_exactly_the_frozen_steps(reference: RenderedRepo) -> None:
    svg = reference.root / "docs" / "runbooks" / "cutover-timeline.svg"
    text = svg.read_text()
    freeze = re.search(r'(<g id="freeze"[^>]*>\s*<rect x=")(\d+)(" y="\d+" width=")(\d+)', text)
    assert freeze
    wider = int(freeze[4]) + 160  # now also over step 8, which is not frozen
    svg.write_text(text.replace(freeze[0], f"{freeze[1]}{freeze[2]}{freeze[3]}{wider}"))
    _fails(runbooks.cutover_timeline_is_the_cutover_of_this_spec, reference, "step-8")


def test_architecture_must_show_the_migration_path(reference: RenderedRepo) -> None:
    svg = reference.root / "docs" / "architecture.svg"
    _edit(svg, 'id="migration-source"', 'id="source"')
    _fails(runbooks.architecture_shows_the_migration_path, reference, "migration")


def test_a_spec_field_the_schema_lacks_is_named(reference: RenderedRepo) -> None:
    schema = json.loads((reference.root / ".platformgen" / "platform.v1.schema.json").read_text())
    for known in (
        "database.parameters.long_query_time",
        "environments.<env>.access",
        "migration.dms.lobMaxSizeKb",
        "apps.resource.fields",
    ):
        assert runbooks._schema_has(schema, known.split(".")), known
    assert not runbooks._schema_has(schema, ["migration", "dms", "turbo"])
    runbook = reference.root / "docs" / "runbooks" / "slow-query-log.md"
    runbook.write_text(runbook.read_text() + "\nSet `database.slowLog: on`.\n")
    _fails(runbooks.runbook_spec_fields_exist, reference, "database.slowLog")


def test_an_aws_command_or_option_that_does_not_exist_is_named() -> None:
    assert (
        runbooks._aws_problems(
            "aws rds restore-db-instance-to-point-in-time --region x "
            "--source-db-instance-identifier a --no-publicly-accessible --deletion-protection"
        )
        == []
    )
    assert (
        runbooks._aws_problems("aws rds wait db-instance-available --db-instance-identifier a")
        == []
    )
    assert runbooks._aws_problems("aws logs tail /aws/rds/x --follow") == []
    assert (
        runbooks._aws_problems(
            'aws secretsmanager put-secret-value --secret-id a --secret-string "$(jq -n --arg p x)"'
        )
        == []
    )
    assert runbooks._aws_problems("aws rds restore-db-instance --region x") == [
        "aws rds has no command 'restore-db-instance'"
    ]
    assert runbooks._aws_problems("aws rds wait db-ready") == [
        "aws rds wait has no waiter 'db-ready'"
    ]
    assert runbooks._aws_problems("aws rds modify-db-instance --master-password x") == [
        "aws rds modify-db-instance has no option --master-password"
    ]


def test_a_wrong_aws_option_in_a_runbook_is_named(reference: RenderedRepo) -> None:
    runbook = reference.root / "docs" / "runbooks" / "point-in-time-restore.md"
    _edit(runbook, "--target-db-instance-identifier", "--new-db-instance-identifier")
    _fails(runbooks.runbook_aws_commands_exist, reference, "--new-db-instance-identifier")
