"""The spec's backup section: defaults, the DR region table and where it is documented.

The findings of bad backup sections are in tests/specs/invalid/backup*.yaml; the rendered
Terraform and docs in tests/validators/terraform.py (backups_follow_the_spec, the restore
runbook); the modules in their terraform tests."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from generator.spec import load_spec_text
from generator.spec.dr_regions import DR_REGION_PAIRS, OPT_IN_REGIONS

SPEC = """\
apiVersion: platformgen/v1
project: {name: backups, organisation: org, domain: backups.example.com, region: REGION}
environments:
  dev: {account: "123456789012", vpcCidr: 10.0.0.0/16}
  prod: {account: "210987654321", vpcCidr: 10.1.0.0/16}
apps:
  - {name: worker, kind: worker}
database:
  version: "8.4"
"""


def resolved(text: str) -> dict:
    result = load_spec_text(text)
    assert result.ok, [d.format() for d in result.errors]
    assert result.resolved is not None
    return result.resolved


def test_without_a_backup_section_copies_go_to_the_default_dr_region() -> None:
    spec = resolved(SPEC.replace("REGION", "eu-west-1"))
    assert spec["backup"] == {"region": "eu-central-1"}
    envs = spec["environments"]
    assert [envs[n]["database"]["copyRetentionDays"] for n in ("dev", "prod")] == [7, 35]
    warnings = [d for d in load_spec_text(SPEC.replace("REGION", "eu-west-1")).warnings]
    (same_account,) = [d for d in warnings if d.code == "policy.prod-backup-account"]
    assert "eu-central-1" in same_account.message and "backup.account" in same_account.fix


def test_a_backup_account_alone_copies_in_each_environments_region() -> None:
    text = SPEC.replace("REGION", "eu-west-1") + 'backup: {account: "444444444444"}\n'
    assert resolved(text)["backup"] == {"account": "444444444444"}
    assert not [d for d in load_spec_text(text).warnings if "backup" in d.code]


def test_both_destinations_are_kept_as_written() -> None:
    text = (
        SPEC.replace("REGION", "ap-southeast-1")
        + 'backup: {account: "444444444444", region: ap-southeast-2}\n'
    )
    assert resolved(text)["backup"] == {"account": "444444444444", "region": "ap-southeast-2"}


def test_the_resolved_backup_section_is_itself_a_valid_spec() -> None:
    import yaml

    spec = resolved(SPEC.replace("REGION", "us-east-1"))
    again = resolved(yaml.safe_dump(spec, sort_keys=False))
    assert again["backup"] == spec["backup"] == {"region": "us-west-2"}


def test_a_spec_without_a_database_backs_nothing_up() -> None:
    text = SPEC.replace("REGION", "eu-west-1").split("database:")[0]
    assert "backup" not in resolved(text)


def _table(markdown: str, header: str) -> dict[str, str]:
    block = markdown.split(header)[1].split("\n\n")[0]
    rows = [r.split("|")[1:3] for r in block.splitlines()[2:]]
    return {a.strip(): b.strip() for a, b in rows}


def test_docs_list_the_dr_region_table() -> None:
    documented = _table(
        (ROOT / "docs" / "spec.md").read_text(), "| project.region | default backup.region |"
    )
    assert documented == {
        src: dst + (" (opt-in)" if dst in OPT_IN_REGIONS else "")
        for src, dst in DR_REGION_PAIRS.items()
    }


def test_the_restore_runbook_knows_the_opt_in_regions() -> None:
    runbook = next((ROOT / "templates" / "terraform" / "docs" / "runbooks").glob("*restore*"))
    listed = re.search(r"set opt_in = \[([^\]]*)\]", runbook.read_text())
    assert listed, "the runbook lists no opt-in regions"
    assert set(re.findall(r'"([a-z0-9-]+)"', listed[1])) == set(OPT_IN_REGIONS)


@pytest.mark.parametrize(("src", "dst"), sorted(DR_REGION_PAIRS.items()))
def test_every_pair_leaves_the_region(src: str, dst: str) -> None:
    assert src != dst
