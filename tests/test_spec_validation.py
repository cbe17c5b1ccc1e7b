"""Spec validation: good specs pass, bad specs get findings at the right line and column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, SPECS, run_cli
from jsonschema import Draft202012Validator

from generator.spec import load_schema, load_spec, load_spec_text
from generator.spec.resolve import resolve

GOOD = [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))]
BAD = sorted((SPECS / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)


@pytest.mark.parametrize("spec", GOOD, ids=lambda p: p.stem)
def test_good_specs_have_no_errors(spec: Path) -> None:
    result = load_spec(spec)
    assert result.ok, "\n".join(d.format() for d in result.errors)
    assert result.resolved is not None


@pytest.mark.parametrize("spec", BAD, ids=lambda p: p.stem)
def test_bad_specs_report_exactly_the_expected_findings(spec: Path) -> None:
    expected = {(int(line), int(col), code) for line, col, code in EXPECT.findall(spec.read_text())}
    assert expected, f"{spec.name} declares no '# expect:' lines"
    result = load_spec(spec)
    found = {(d.line, d.column, d.code) for d in result.diagnostics}
    assert found == expected
    assert not result.ok and result.resolved is None
    for d in result.diagnostics:
        assert d.file == str(spec)
        assert d.message and d.fix, d


def test_messages_name_the_problem_and_the_fix() -> None:
    found = [d for spec in BAD for d in load_spec(spec).diagnostics]

    def text(code: str) -> str:
        return "\n".join(f"{d.message} | {d.fix}" for d in found if d.code == code)

    assert "quote the value" in text("schema.type")
    assert "did you mean 'github'" in text("schema.enum")
    assert "10.0.0.0/16" in text("semantic.cidr-invalid")
    assert "first at line 22" in text("semantic.duplicate-app")
    assert "tier: production" in text("semantic.tier-required")
    assert "multiAz: true" in text("policy.prod-multi-az")
    assert "Secrets Manager" in text("policy.secret-in-env")
    assert "2-10 lowercase" in text("schema.name")


def test_typo_gets_a_suggestion() -> None:
    text = REFERENCE_SPEC.read_text().replace("vpcCidr: 10.20.0.0/16", "vpcCidrs: 10.20.0.0/16")
    result = load_spec_text(text, "p.yaml")
    typo = next(d for d in result.errors if d.code == "schema.additionalProperties")
    assert "did you mean 'vpcCidr'" in typo.fix
    line = text.splitlines()[typo.line - 1]
    assert line[typo.column - 1 :].startswith("vpcCidrs:")


def test_default_values_are_marked_as_defaults() -> None:
    text = REFERENCE_SPEC.read_text().replace(
        "      readReplicas: 1", "      readReplicas: 1\n    deletionProtection: false"
    )
    result = load_spec_text(text)
    finding = next(d for d in result.errors if d.code == "policy.prod-deletion-protection")
    assert "(a default" not in finding.message
    assert finding.path == "environments.prod.deletionProtection"


def test_validate_cli_text_and_exit_codes() -> None:
    ok = run_cli("validate", REFERENCE_SPEC)
    assert ok.returncode == 0, ok.stderr
    assert "0 error(s)" in ok.stderr
    bad = run_cli("validate", SPECS / "invalid" / "policy.yaml")
    assert bad.returncode == 1
    assert "policy.yaml:27:23: error:" in bad.stderr
    assert "fix:" in bad.stderr


def test_validate_cli_json() -> None:
    proc = run_cli("validate", "--format", "json", SPECS / "invalid" / "semantic.yaml")
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["ok"] is False and payload["exitCode"] == 1
    assert payload["summary"]["errors"] == len(payload["findings"])
    first = payload["findings"][0]
    assert set(first) == {
        "file", "line", "column", "severity", "code", "path", "unit", "message", "fix",
    }  # fmt: skip


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    proc = run_cli("validate", tmp_path / "nope.yaml")
    assert proc.returncode == 1
    assert "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_utf8_and_control_characters(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"apiVersion: platformgen/v1\nproject: {name: caf\xe9}\n")
    result = load_spec(latin)
    assert [(d.line, d.code) for d in result.errors] == [(2, "yaml")]
    assert "UTF-8" in result.errors[0].message
    control = load_spec_text("apiVersion: x\x07\n")
    assert control.errors[0].code == "yaml"


def test_unknown_api_version() -> None:
    result = load_spec_text("apiVersion: platformgen/v2\n")
    assert [d.code for d in result.errors] == ["schema.apiVersion"]


def test_every_schema_field_is_described_and_optional_fields_document_a_default() -> None:
    schema = load_schema()
    missing: list[str] = []

    def walk(node: dict, where: str) -> None:
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            path = f"{where}.{name}" if where else name
            description = prop.get("description", "")
            if not description:
                missing.append(f"{path}: no description")
            elif (
                name not in required
                and "$ref" not in prop
                and prop.get("type") != "object"
                and "Default" not in description
                and "Omit it" not in description
            ):
                missing.append(f"{path}: optional without a documented default")
            target = prop
            if "$ref" in prop:
                target = schema["$defs"][prop["$ref"].split("/")[-1]]
            walk(target, path)
            if isinstance(target.get("additionalProperties"), dict):
                walk(_deref(schema, target["additionalProperties"]), path + ".*")
            if isinstance(target.get("items"), dict):
                walk(_deref(schema, target["items"]), path + "[]")

    walk(schema, "")
    assert not missing, "\n".join(missing)


def _deref(schema: dict, node: dict) -> dict:
    if "$ref" in node:
        return schema["$defs"][node["$ref"].split("/")[-1]]
    return node


@pytest.mark.parametrize("spec", GOOD, ids=lambda p: p.stem)
def test_resolved_spec_is_a_valid_spec_and_resolving_is_idempotent(spec: Path) -> None:
    resolved = load_spec(spec).resolved
    assert resolved is not None
    errors = sorted(
        str(e.message) for e in Draft202012Validator(load_schema()).iter_errors(resolved)
    )
    assert not errors
    assert resolve(resolved) == resolved


def test_show_prints_the_resolved_spec_which_validates(tmp_path: Path) -> None:
    proc = run_cli("show", REFERENCE_SPEC)
    assert proc.returncode == 0, proc.stderr
    assert "tier: production" in proc.stdout
    assert "natGateways: perAz" in proc.stdout
    shown = tmp_path / "shown.yaml"
    shown.write_text(proc.stdout)
    assert load_spec(shown).ok
    as_json = json.loads(run_cli("show", "--format", "json", REFERENCE_SPEC).stdout)
    assert as_json == load_spec(shown).resolved
