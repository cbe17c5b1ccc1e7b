"""The service area's spec fields and pins (the rendered services are checked in validators/service.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE_SPEC

from generator.spec import load_spec


def _with_resource(tmp_path: Path, resource: dict, kind: str = "api") -> list[str]:
    spec = yaml.safe_load(REFERENCE_SPEC.read_text())
    api = next(a for a in spec["apps"] if a["name"] == "api")
    api["resource"] = resource
    api["kind"] = kind
    if kind != "api":
        api.pop("path", None)
        api["public"] = False
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(spec))
    return [f"{d.code}: {d.message}" for d in load_spec(path).diagnostics if d.severity == "error"]


GOOD = {
    "name": "loan-applications",
    "fields": [{"name": "title", "type": "string", "required": True}],
    "workflow": {
        "initial": "draft",
        "transitions": [{"from": "draft", "to": "done", "by": "owner"}],
    },
}


def test_a_good_resource_is_accepted_and_resolved(tmp_path: Path) -> None:
    assert _with_resource(tmp_path, GOOD) == []
    resolved = load_spec(tmp_path / "platform.yaml").resolved
    assert resolved is not None
    field = next(a for a in resolved["apps"] if a["name"] == "api")["resource"]["fields"][0]
    assert field == {
        "name": "title",
        "type": "string",
        "required": True,
        "minLength": 1,
        "maxLength": 200,
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["fields"].append({"name": "status", "type": "string"}), "reserved"),
        (lambda r: r["fields"].append({"name": "title", "type": "integer"}), "listed twice"),
        (
            lambda r: r["fields"].append({"name": "n", "type": "integer", "maxLength": 3}),
            "has no effect",
        ),
        (
            lambda r: r["fields"].append(
                {"name": "n", "type": "integer", "minimum": 5, "maximum": 1}
            ),
            "below",
        ),
        (
            lambda r: r["workflow"]["transitions"].append(
                {"from": "draft", "to": "draft", "by": "owner"}
            ),
            "does not change",
        ),
        (
            lambda r: r["workflow"]["transitions"].append(
                {"from": "draft", "to": "done", "by": "staff"}
            ),
            "listed twice",
        ),
        (
            lambda r: r["workflow"]["transitions"].append(
                {"from": "limbo", "to": "done", "by": "staff"}
            ),
            "never be reached",
        ),
        (lambda r: r.update(name="Bad_Name"), "not valid here"),
    ],
    ids=["reserved", "duplicate", "wrong-option", "range", "no-op", "twice", "unreachable", "name"],
)
def test_bad_resources_are_refused(tmp_path: Path, change, expected: str) -> None:
    resource = copy.deepcopy(GOOD)
    change(resource)
    errors = _with_resource(tmp_path, resource)
    assert any(expected in e for e in errors), errors


def test_resource_only_on_api_apps(tmp_path: Path) -> None:
    errors = _with_resource(tmp_path, GOOD, kind="worker")
    assert any("only api apps serve one" in e for e in errors), errors


def test_missing_token_settings_are_a_warning(tmp_path: Path) -> None:
    spec = yaml.safe_load(REFERENCE_SPEC.read_text())
    api = next(a for a in spec["apps"] if a["name"] == "api")
    del api["environments"]["staging"]
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(spec))
    found = [d for d in load_spec(path).diagnostics if d.code == "semantic.service-auth"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "in staging" in found[0].message
    assert not [
        d for d in load_spec(REFERENCE_SPEC).diagnostics if d.code == "semantic.service-auth"
    ]
