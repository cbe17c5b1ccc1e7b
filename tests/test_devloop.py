"""Breakage proofs for the developer-loop validators (tests/validators/devloop.py): each
check fails on the defect it exists for, on the rendered reference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from support.renovate import unmatched_pins, validate
from validators.devloop import bare_tool_calls

REFERENCE = ROOT / "examples" / "getprospa" / "repo"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("devloop") / "repo"
    shutil.copytree(REFERENCE, root)
    return root


def test_a_bare_tool_in_a_recipe_is_found(tmp_path: Path) -> None:
    mk = tmp_path / "x" / "platform.mk"
    mk.parent.mkdir()
    mk.write_text(
        "lint:\n"
        '\t@for env in a b; do \\\n\t  echo "helm lint ($$env)"; \\\n\t  $(HELM) lint --strict x || exit 1; \\\n\tdone\n'
        "plan:\n\t$(TERRAFORM) -chdir=x plan | tee out\n"
    )
    assert bare_tool_calls(tmp_path) == []
    mk.write_text(
        mk.read_text()
        + "deploy:\n\tx=1; helm upgrade --install a b\n\t@terraform output\n\t| kubectl apply -f -\n"
    )
    found = bare_tool_calls(tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "x=1; helm upgrade --install a b",
        "@terraform output",
        "| kubectl apply -f -",
    ]


def test_the_old_helm_targets_ran_bare_helm(tmp_path: Path) -> None:
    """What deploy/helm/<app>/platform.mk did before $(HELM): the check finds it."""
    chart = tmp_path / "deploy" / "helm" / "api"
    chart.mkdir(parents=True)
    chart.joinpath("platform.mk").write_text(
        "helm-api-test:\n\t@for env in dev; do \\\n\t  helm template api deploy/helm/api >/dev/null || exit 1; \\\n\tdone\n"
    )
    assert len(bare_tool_calls(tmp_path)) == 1


def test_every_reference_pin_is_seen_and_a_broken_manager_is_caught(
    reference: Path, tmp_path: Path
) -> None:
    config = reference / "renovate.json"
    missing, count = unmatched_pins(reference, config)
    assert not missing and count >= 20, (missing, count)
    data = json.loads(config.read_text())
    # A manager that no longer reads make's `:=` misses every add-on chart.
    broken = json.loads(json.dumps(data))
    broken["customManagers"][0]["matchStrings"] = [
        s.replace("\\s*:?=\\s*", "=") for s in broken["customManagers"][0]["matchStrings"]
    ]
    path = tmp_path / "renovate.json"
    path.write_text(json.dumps(broken))
    missing, _ = unmatched_pins(reference, path)
    assert any("ALB_CONTROLLER_CHART_VERSION" in m for m in missing) and any(
        "KARPENTER_CHART_DIGEST" in m for m in missing
    ), missing
    # Without the compose manager, compose.yaml's MySQL digest is nobody's.
    broken = json.loads(json.dumps(data))
    broken["customManagers"] = [
        m for m in broken["customManagers"] if "compose" not in m["fileMatch"][0]
    ]
    path.write_text(json.dumps(broken))
    missing, _ = unmatched_pins(reference, path)
    assert [m for m in missing if m.startswith("compose.yaml")], missing


def test_the_validator_rejects_an_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "renovate.json"
    path.write_text(
        json.dumps({"customManagers": [{"customType": "regex", "matchStrings": ["("]}]})
    )
    proc = validate(path)
    assert proc.returncode != 0, proc.stdout
