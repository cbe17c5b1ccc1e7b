"""Versions that move: the EKS support calendar judged on a fixed day, and MySQL pinned by
major.minor (generator/spec/support.py, checks.kubernetes_support, database_policy)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, run_cli

from generator.spec import load_schema, load_spec_text
from generator.spec.resolve import DEFAULT_KUBERNETES_VERSION, mysql_major_minor
from generator.spec.support import EKS_VERSIONS, TABLES_AS_OF, newest_in_standard_support

SPEC = """\
apiVersion: platformgen/v1
project: {name: versions, organisation: org, domain: versions.example.com, region: eu-west-1}
kubernetes:
  version: "KUBE"
environments:
  dev: {account: "123456789012", vpcCidr: 10.0.0.0/16}
apps:
  - {name: api, kind: api}
database:
  version: "MYSQL"
"""


def findings(kube: str, day: str, mysql: str = "8.4") -> list[tuple[str, str, str]]:
    text = SPEC.replace("KUBE", kube).replace("MYSQL", mysql)
    result = load_spec_text(text, as_of=dt.date.fromisoformat(day))
    return [
        (d.severity, d.code, d.message)
        for d in result.diagnostics
        if d.code in ("policy.kubernetes-support", "semantic.mysql-minor-version")
    ]


@pytest.mark.parametrize(
    ("version", "day", "severity", "words"),
    [
        ("1.33", "2026-07-28", None, ""),
        (
            "1.33",
            "2026-07-29",
            "warning",
            "standard support for Kubernetes 1.33 ended on 2026-07-29",
        ),
        ("1.33", "2027-07-28", "warning", "until 2027-07-29 it runs in extended support"),
        ("1.33", "2027-07-29", "error", "left EKS extended support on 2027-07-29"),
        ("1.35", "2026-01-27", "warning", "arrives on EKS on 2026-01-28"),
        ("1.35", "2026-11-30", None, ""),
        ("1.37", "2026-11-30", "warning", "not in platformgen's EKS release calendar"),
    ],
)
def test_kubernetes_support_is_judged_on_the_as_of_day(
    version: str, day: str, severity: str | None, words: str
) -> None:
    found = findings(version, day)
    if severity is None:
        assert found == []
    else:
        assert [(s, c) for s, c, _ in found] == [(severity, "policy.kubernetes-support")]
        assert words in found[0][2]


def test_the_fix_moves_one_minor_version_at_a_time() -> None:
    result = load_spec_text(
        SPEC.replace("KUBE", "1.32").replace("MYSQL", "8.4"), as_of=dt.date(2026, 11, 30)
    )
    (finding,) = [d for d in result.diagnostics if d.code == "policy.kubernetes-support"]
    assert '"1.33"' in finding.fix and "up to 1.35" in finding.fix
    assert finding.path == "kubernetes.version" and finding.line == 4


def test_the_calendar_is_consistent_and_covers_every_version_the_schema_accepts() -> None:
    pattern = load_schema()["properties"]["kubernetes"]["properties"]["version"]["pattern"]
    accepted = [f"1.{m}" for m in range(20, 40) if re.fullmatch(pattern, f"1.{m}")]
    known = [v for v in accepted if v in EKS_VERSIONS]
    # Versions newer than the calendar are unknown (a warning), never silently fine.
    assert known == accepted[: len(known)] and known[0] == accepted[0]
    for window in EKS_VERSIONS.values():
        standard = (window.standard_until - window.released).days
        extended = (window.extended_until - window.standard_until).days
        assert 420 <= standard <= 440, (window.version, standard)  # 14 months
        assert extended in (365, 366), (window.version, extended)  # 12 months
    assert DEFAULT_KUBERNETES_VERSION in EKS_VERSIONS
    assert newest_in_standard_support(TABLES_AS_OF) == max(
        EKS_VERSIONS, key=lambda v: int(v.split(".")[1])
    )


def test_every_admitted_kubernetes_version_has_the_prestop_sleep_action() -> None:
    """The spec schema, the chart's values schema and the cluster module admit the same
    versions, from 1.30 (the kubelet's preStop sleep action, KEP-3960; the distroless
    runtime image has no sleep binary to exec). The versions refused below it are only
    ones whose EKS standard support had ended when the calendar was last checked."""
    root = Path(__file__).resolve().parents[1]
    chart = json.loads((root / "templates/helm/values.schema.json").read_text())
    module = (root / "templates/terraform/infra/modules/cluster/variables.tf").read_text()
    module_pattern = re.search(r'regex\("(\^1[^"]+)", var\.kubernetes_version', module)
    assert module_pattern, "the cluster module no longer checks kubernetes_version"
    patterns = {
        "spec": load_schema()["properties"]["kubernetes"]["properties"]["version"]["pattern"],
        "chart": chart["properties"]["kubernetes"]["properties"]["version"]["pattern"],
        "module": module_pattern[1].replace("\\\\", "\\"),
    }
    for where, pattern in patterns.items():
        admitted = [m for m in range(20, 40) if re.fullmatch(pattern, f"1.{m}")]
        assert admitted and min(admitted) == 30, (where, pattern, admitted)
    refused = [v for v in EKS_VERSIONS if int(v.split(".")[1]) < 30]
    assert all(EKS_VERSIONS[v].standard_until <= TABLES_AS_OF for v in refused), refused


def test_validate_takes_an_as_of_day_and_refuses_a_bad_one(tmp_path: Path) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(SPEC.replace("KUBE", "1.33").replace("MYSQL", "8.4"))
    before = run_cli("validate", "--format", "json", "--as-of", "2026-07-28", spec)
    after = run_cli("validate", "--format", "json", "--as-of", "2026-07-29", spec)
    codes = [
        [f["code"] for f in json.loads(p.stdout)["findings"] if f["code"].startswith("policy.k")]
        for p in (before, after)
    ]
    assert codes == [[], ["policy.kubernetes-support"]]
    bad = run_cli("validate", "--as-of", "30/11/2026", spec)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    env = run_cli("validate", spec, env={"PLATFORMGEN_AS_OF": "soon"})
    assert env.returncode == 1 and "usage.as-of" in env.stderr and "Traceback" not in env.stderr


@pytest.mark.parametrize(("written", "resolved"), [("8.0.42", "8.0"), ("8.4.6", "8.4")])
def test_a_full_mysql_version_is_read_as_major_minor_with_a_warning(
    written: str, resolved: str
) -> None:
    text = SPEC.replace("KUBE", "1.35").replace("MYSQL", written)
    result = load_spec_text(text, as_of=dt.date(2026, 11, 30))
    assert result.ok and result.resolved is not None
    assert result.resolved["database"]["version"] == resolved
    (warning,) = [d for d in result.warnings if d.code == "semantic.mysql-minor-version"]
    assert warning.fix == f'write version: "{resolved}"' and warning.line == 10
    assert findings("1.35", "2026-11-30", mysql=resolved) == []


def test_major_minor_versions_pass_unchanged() -> None:
    assert mysql_major_minor("8.0") == "8.0" and mysql_major_minor("8.4.6") == "8.4"
    assert findings("1.35", "2026-11-30", mysql="8.0") == []


def test_the_reference_pins_major_minor() -> None:
    assert 'version: "8.0"' in REFERENCE_SPEC.read_text()
