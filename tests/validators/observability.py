"""Validators of where logs and metrics go (spec observability.provider), per rendered spec.

- cloudwatch (the default): no Datadog agent is rendered; the environment roots pass the
  provider to modules/cluster, which installs the CloudWatch Observability add-on (its
  own terraform test asserts the add-on, its role and its encrypted log groups).
- datadog: infra/addons/datadog holds the agent's values, checked against the pinned
  chart's own values.yaml and values.schema.json (vendored in tests/data/charts/datadog),
  and the API key's ExternalSecret, which names the spec's Secrets Manager secret and no
  key; every environment root passes the provider and the secret's name to Terraform.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import jsonschema
import yaml
from support.tools import ROOT

from . import RenderedRepo, require, validator

CHART = ROOT / "tests" / "data" / "charts" / "datadog"
CHART_VERSION = "3.240.0"


def _provider(spec: dict[str, Any]) -> str:
    return str(spec.get("observability", {}).get("provider", "cloudwatch"))


def _unknown_keys(values: Any, chart: Any, path: str = "") -> list[str]:
    """Keys of `values` the chart's default values do not have (below a chart default that
    is a map of keys; a null, list or empty-map default takes anything)."""
    if not isinstance(values, dict) or not isinstance(chart, dict) or not chart:
        return []
    unknown = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in chart:
            unknown.append(where)
        else:
            unknown += _unknown_keys(value, chart[key], where)
    return unknown


def _tfvars(repo: RenderedRepo) -> list[dict[str, Any]]:
    files = sorted((repo.root / "infra" / "envs").glob("*/platform.auto.tfvars.json"))
    assert files, "no environment roots rendered"
    return [json.loads(f.read_text()) for f in files]


@validator("terraform", when=lambda spec: _provider(spec) == "cloudwatch")
def cloudwatch_ships_without_datadog(repo: RenderedRepo) -> None:
    assert not (repo.root / "infra" / "addons" / "datadog").exists()
    for tfvars in _tfvars(repo):
        assert tfvars["observability"]["provider"] == "cloudwatch"
        assert "datadog" not in tfvars["observability"]


# Only specs that choose Datadog render its agent.
@validator("terraform", when=lambda spec: _provider(spec) == "datadog")
def datadog_agent_ships_logs_and_metrics(repo: RenderedRepo) -> None:
    datadog = repo.spec["observability"]["datadog"]
    addons = repo.root / "infra" / "addons" / "datadog"
    values = yaml.safe_load((addons / "values.yaml").read_text())
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert _unknown_keys(values, chart_values) == [], "keys the datadog chart does not have"
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(values)
    assert values["datadog"]["site"] == datadog.get("site", "datadoghq.com")
    assert values["datadog"]["apiKeyExistingSecret"] == "datadog-api-key"
    assert "apiKey" not in values["datadog"]
    assert values["datadog"]["logs"] == {"enabled": True, "containerCollectAll": True}
    assert values["datadog"]["prometheusScrape"]["enabled"] is True

    version = re.search(
        r"^DATADOG_CHART_VERSION := (\S+)$", (addons / "versions.mk").read_text(), re.M
    )
    assert version and version[1] == CHART_VERSION, "versions.mk and the vendored chart differ"

    documents = list(yaml.safe_load_all((addons / "api-key.yaml").read_text()))
    external = next(d for d in documents if d["kind"] == "ExternalSecret")
    assert external["spec"]["target"]["name"] == "datadog-api-key"
    assert external["spec"]["data"] == [
        {"secretKey": "api-key", "remoteRef": {"key": datadog["apiKeySecret"]}}
    ]
    store = next(d for d in documents if d["kind"] == "SecretStore")
    assert store["spec"]["provider"]["aws"]["role"] == "ROLE_ARN"  # filled by make addons
    assert "datadog/api-key.yaml" in (repo.root / "infra" / "platform.mk").read_text()

    # The chart is installed only from an archive whose digest was checked; with the digest
    # not yet recorded (platformgen cannot reach Datadog's repository), make refuses.
    env = next(iter(repo.spec["environments"]))
    make = require("make")
    dry = subprocess.run(
        [make, "-n", "addons", f"ENV={env}"], cwd=repo.root, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    local = f"build/{env}/charts/datadog-{CHART_VERSION}.tgz"
    check = dry.index("sha256sum -c -", dry.index(f"--version {CHART_VERSION} -d"))
    assert dry.index("DATADOG_CHART_DIGEST") < check < dry.index("helm upgrade --install datadog")
    assert f"helm upgrade --install datadog {local} " in dry
    pinned = subprocess.run(
        [make, "-n", "addons", f"ENV={env}", "DATADOG_CHART_DIGEST=sha256:" + "a" * 64],
        cwd=repo.root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f'echo "{"a" * 64}  {local}" | sha256sum -c -' in pinned

    for tfvars in _tfvars(repo):
        assert tfvars["observability"]["provider"] == "datadog"
        assert tfvars["observability"]["datadog"] == {
            "site": datadog.get("site", "datadoghq.com"),
            "api_key_secret": datadog["apiKeySecret"],
        }
