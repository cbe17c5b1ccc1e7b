"""Free text outside the Basic Multilingual Plane reaches every rendered format intact.

`to_json` writes an emoji as a UTF-16 surrogate pair (`\\ud83d\\ude00`): JSON allows that,
but Go's YAML, and so Helm, refuses it in Chart.yaml and values-<env>.yaml, and TOML
refuses it in pyproject.toml. The reference spec gets emoji, other astral characters and
YAML's special characters in every free-text field (descriptions, env values); the charts
must load and render in Helm's own engine with each value exactly as written.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REFERENCE_SPEC
from support.helm import env_values, load_chart, render

from generator.engine.operations import new

# Emoji (with a ZWJ sequence and a variation selector), mathematical letters, a CJK
# Extension B ideograph, a private-use plane character, and BMP characters that YAML
# escapes or folds: NEL, line and paragraph separators, a BOM, a non-breaking space.
ASTRAL = "😀 🏳️‍🌈 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎 \U000f0001"
SPECIAL = 'caf\u00e9 \u0085 \u2028 \u2029 \ufeff \u00a0 "q" \\ # : - {x}'


def text(label: str) -> str:
    return f"{label} {ASTRAL} {SPECIAL}"


def _spec(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    data = yaml.safe_load(REFERENCE_SPEC.read_text())
    data["project"]["description"] = text("project")
    for app in data["apps"]:
        app["description"] = text(app["name"])
        if app.get("kind") in ("api", "worker") or app.get("hosting") == "container":
            app.setdefault("env", {})["GREETING"] = text(f"{app['name']} env")
            for name, env in app.get("environments", {}).items():
                env.setdefault("env", {})["FAREWELL"] = text(f"{app['name']} {name}")
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000))
    return path, data


@pytest.mark.slow
def test_astral_and_special_characters_round_trip_through_helm_and_toml(tmp_path: Path) -> None:
    spec_path, _ = _spec(tmp_path)
    repo = tmp_path / "repo"
    new(spec_path, repo)
    from generator.spec import load_spec

    resolved = load_spec(spec_path).resolved
    assert resolved is not None
    charts = [a for a in resolved["apps"] if a["hosting"] == "container"]
    assert charts, "the reference has no container app"
    for app in charts:
        chart_dir = repo / "deploy" / "helm" / app["name"]
        for path in [chart_dir / "Chart.yaml", *chart_dir.glob("values-*.yaml")]:
            assert "\\ud8" not in path.read_text().lower(), f"{path.name}: surrogate escape"
        metadata = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        assert metadata["description"] == text(app["name"])
        chart = load_chart(chart_dir)  # Helm's Go YAML parses Chart.yaml
        for env in resolved["promotion"]:
            rendered = render(chart, app["name"], env, env_values(chart_dir, resolved, app, env))
            config = rendered.one("ConfigMap")["data"]
            assert config["GREETING"] == text(f"{app['name']} env"), env
            wanted = text(f"{app['name']} {env}")
            assert config.get("FAREWELL") == wanted, (env, config.get("FAREWELL"), wanted)
    for service in (repo / "services").iterdir():
        project = tomllib.loads((service / "pyproject.toml").read_text())["project"]
        assert project["description"] == text(service.name)
        dockerfile = (service / "Dockerfile").read_text()
        assert ASTRAL in dockerfile, "the image label carries the description as written"
