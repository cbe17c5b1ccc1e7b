"""Validators of the `helm` area: a chart per container app, checked per environment.

Every chart of every spec is linted (strict) and rendered for every environment by
Helm 4's own engine (helm-python-sdk), with the values `make deploy` passes: the
environment's values file, Terraform's app_values for the app (nulls included) and
an image. Every rendered manifest is validated for the spec's Kubernetes version
(kubernetes-validate, strict) or, for custom resources, against the vendored CRD
schemas; checkov's Kubernetes checks run on all of them; and the properties the
chart promises are checked on the rendered objects.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml
from conftest import SPECS
from support.helm import (
    Render,
    deep_merge,
    env_values,
    load_chart,
    pod_specs,
    render,
    subnet_tier_cidrs,
    validate_manifest,
)
from support.helm_shim import install as install_helm_shim
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, ROOT, tool_venv_bin

from . import RenderedRepo, nonempty, require, validator

TEMPLATE = ROOT / "templates" / "helm"
# checkov checks a chart may skip, each only with a written reason in the chart itself
# (a checkov.io/skip annotation on the resource). Anything else must pass.
ALLOWED_SKIPS = {
    "CKV_K8S_8": "the helm test pod has no liveness probe",
    "CKV_K8S_9": "the helm test pod has no readiness probe",
    "CKV_K8S_11": "no CPU limit unless platform.yaml sets resources.cpuLimit",
    "CKV_K8S_35": "the spec's secrets are environment variables by contract (ADR 0005)",
}


# The target group's deregistration delay that Terraform sets (ADR 0005).
DEREGISTRATION_DELAY_SECONDS = 30
# Slack the kubelet leaves after the app's graceful stop, before it kills the container.
SHUTDOWN_MARGIN_SECONDS = 5

# Database credential rotation (alternating users, docs/contracts.md): the previous user
# stays valid until the next rotation, so a pod must see the new secret before then. The
# delay is the External Secrets Operator's refreshInterval plus the kubelet's refresh of a
# mounted Secret: its sync period (1 minute) plus its cache's propagation (up to another
# minute; Kubernetes docs, "Mounted Secrets are updated automatically"). The shortest
# interval between two rotations of one user is the generated repo's documented minimum.
KUBELET_SECRET_SYNC_SECONDS = 120
MIN_ROTATION_INTERVAL_SECONDS = 3600


def go_duration_seconds(value: str) -> int:
    """A duration as the chart's schema admits it (digits then s, m or h)."""
    match = re.fullmatch(r"([1-9][0-9]*)(s|m|h)", value)
    assert match, f"refreshInterval {value!r} is not digits followed by s, m or h"
    return int(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2]]


@dataclass
class Chart:
    app: dict[str, Any]
    path: Path
    renders: dict[str, Render]


_CACHE: dict[Path, list[Chart]] = {}


def charts(repo: RenderedRepo) -> list[Chart]:
    """Every chart of the repo, rendered for every environment (cached per worker)."""
    if repo.root not in _CACHE:
        apps = {a["name"]: a for a in repo.spec["apps"]}
        out = []
        for unit in repo.units_of("helm"):
            app, path = apps[unit.key], repo.root / unit.dest
            chart = load_chart(path)
            renders = {
                env: render(chart, app["name"], env, env_values(path, repo.spec, app, env))
                for env in repo.spec["promotion"]
            }
            out.append(Chart(app, path, renders))
        _CACHE[repo.root] = out
    return _CACHE[repo.root]


def server_labels(app: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": app,
        "app.kubernetes.io/component": "server",
    }


@validator("helm")
def every_container_app_has_a_chart_and_static_apps_none(repo: RenderedRepo) -> None:
    wanted = {a["name"] for a in repo.spec["apps"] if a["hosting"] == "container"}
    assert {u.key for u in repo.units_of("helm")} == wanted
    for app in repo.spec["apps"]:
        chart = repo.root / "deploy" / "helm" / app["name"]
        assert chart.is_dir() == (app["hosting"] == "container"), app["name"]
        if app["hosting"] == "container":
            envs = {p.name for p in chart.glob("values-*.yaml")}
            assert envs == {f"values-{e}.yaml" for e in repo.spec["promotion"]}


@validator("helm")
def chart_templates_are_the_same_bytes_for_every_app(repo: RenderedRepo) -> None:
    """Chart templates are static (no .jinja): spec values reach them only as values."""
    static = [
        p.relative_to(TEMPLATE)
        for p in TEMPLATE.rglob("*")
        if p.is_file() and not p.name.endswith(".jinja")
    ]
    assert any(p.parts[0] == "templates" for p in static)
    for chart in charts(repo):
        for rel in static:
            assert (chart.path / rel).read_bytes() == (TEMPLATE / rel).read_bytes(), rel


@validator("helm")
def charts_lint_strict_for_every_environment(repo: RenderedRepo) -> None:
    kube = f"v{repo.spec['kubernetes']['version']}.0"
    for chart in charts(repo):
        for env, rendered in chart.renders.items():
            report = helm_python.lint(
                str(chart.path), rendered.values, strict=True, kube_version=kube,
                namespace=chart.app["name"],
            )  # fmt: skip
            problems = [m for m in report["messages"] if m["severity"] >= 2]
            assert report["errors"] == [] and problems == [], (chart.app["name"], env, report)


@validator("helm")
def manifests_validate_for_the_spec_kubernetes_version(repo: RenderedRepo) -> None:
    version = repo.spec["kubernetes"]["version"]
    for chart in charts(repo):
        validate_manifest(yaml.safe_load((chart.path / "namespace.yaml").read_text()), version)
        validate_manifest(yaml.safe_load((chart.path / "access.yaml").read_text()), version)
        for rendered in chart.renders.values():
            assert rendered.manifests
            for manifest in rendered.manifests:
                validate_manifest(manifest, version)


@validator("helm")
def checkov_kubernetes_checks_pass(repo: RenderedRepo) -> None:
    checkov = tool_venv_bin("checkov")
    with tempfile.TemporaryDirectory(prefix="helm-checkov-") as tmp:
        out = Path(tmp)
        for chart in charts(repo):
            (out / chart.app["name"]).mkdir()
            for name in ("namespace.yaml", "access.yaml"):
                (out / chart.app["name"] / name).write_bytes((chart.path / name).read_bytes())
            for env, rendered in chart.renders.items():
                for path, text in rendered.files.items():
                    if path.endswith(".yaml") and text.strip():
                        target = out / chart.app["name"] / env / path
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(text)
        proc = subprocess.run(
            [str(checkov), "-d", str(out), "--framework", "kubernetes", "-o", "json",
             *(a for a in CHECKOV_ARGS if a != "--quiet")],  # skips are reported too
            capture_output=True, text=True, env={**os.environ, **CHECKOV_ENV},
        )  # fmt: skip
    assert proc.stdout.strip(), proc.stderr
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 0, proc.stdout[:2000]
    assert not failed, [(c["check_id"], c["resource"], c["file_path"]) for c in failed]
    for check in skipped:
        assert check["check_id"] in ALLOWED_SKIPS, (check["check_id"], check["resource"])
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]


def _production(spec: dict[str, Any]) -> list[str]:
    return [n for n, e in spec["environments"].items() if e["tier"] == "production"]


@validator("helm", when=lambda spec: bool(_production(spec)))
def production_runs_three_replicas_with_a_pdb_and_spread(repo: RenderedRepo) -> None:
    production = nonempty(_production(repo.spec), "production environment")
    for chart in charts(repo):
        for env in production:
            rendered, name = chart.renders[env], chart.app["name"]
            hpa = rendered.one("HorizontalPodAutoscaler")
            assert hpa["spec"]["minReplicas"] >= 3, (name, env)
            assert hpa["spec"]["scaleTargetRef"]["name"] == name
            pdb = rendered.one("PodDisruptionBudget")
            assert pdb["spec"]["selector"]["matchLabels"] == server_labels(name)
            assert pdb["spec"]["maxUnavailable"] == 1
            deployment = rendered.one("Deployment")
            assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
            spread = {
                c["topologyKey"]: c
                for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
            }
            zone = spread["topology.kubernetes.io/zone"]
            assert zone["whenUnsatisfiable"] == "DoNotSchedule" and zone["maxSkew"] == 1
            assert "kubernetes.io/hostname" in spread
            assert zone["labelSelector"]["matchLabels"] == server_labels(name)


@validator("helm")
def rollouts_never_drop_capacity_or_requests(repo: RenderedRepo) -> None:
    for chart in charts(repo):
        for rendered in chart.renders.values():
            deployment = rendered.one("Deployment")
            strategy = deployment["spec"]["strategy"]
            assert strategy["type"] == "RollingUpdate"
            assert strategy["rollingUpdate"]["maxUnavailable"] == 0
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            pre_stop = container["lifecycle"]["preStop"]
            pause = pre_stop["sleep"]["seconds"] if "sleep" in pre_stop else None
            assert pause is not None, "Kubernetes >= 1.30 uses the native sleep action"
            # A terminating pod serves through the pause; the target group drains for
            # the pause plus a request of up to 10 s; the kubelet waits for both.
            assert pause + 10 <= DEREGISTRATION_DELAY_SECONDS
            assert pod["terminationGracePeriodSeconds"] >= pause + 10
            for probe, path in (
                ("startupProbe", chart.app["health"]["liveness"]),
                ("livenessProbe", chart.app["health"]["liveness"]),
                ("readinessProbe", chart.app["health"]["readiness"]),
            ):
                assert container[probe]["httpGet"]["path"] == path, probe


@validator("helm")
def resources_and_replicas_come_from_the_spec(repo: RenderedRepo) -> None:
    for chart in charts(repo):
        for env, rendered in chart.renders.items():
            wanted = chart.app["environments"][env]
            hpa = rendered.one("HorizontalPodAutoscaler")["spec"]
            assert (hpa["minReplicas"], hpa["maxReplicas"]) == (
                wanted["replicas"]["min"],
                wanted["replicas"]["max"],
            )
            resources = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0][
                "resources"
            ]
            assert resources["requests"] == {
                "cpu": wanted["resources"]["cpu"],
                "memory": wanted["resources"]["memory"],
            }
            assert resources["limits"]["memory"] == wanted["resources"]["memory"]
            assert resources["limits"].get("cpu") == wanted["resources"].get("cpuLimit")


@validator("helm")
def migration_hook_runs_before_the_deployment_with_its_secret_first(repo: RenderedRepo) -> None:
    for chart in charts(repo):
        for env, rendered in chart.renders.items():
            name = chart.app["name"]
            hooks = [
                m
                for m in rendered.manifests
                if "helm.sh/hook" in m["metadata"].get("annotations", {})
            ]
            jobs = rendered.of_kind("Job")
            if not chart.app["database"]:
                assert not jobs and not any("pre-install" in str(h) for h in hooks)
                continue
            order = install_order(rendered)
            kinds = [m["kind"] for m in order]
            job = rendered.one("Job", f"{name}-migrate")
            assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
            annotations = job["metadata"]["annotations"]
            assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
            assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
            assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
            # The Job's Secret is written by a hook ExternalSecret, through a hook
            # SecretStore, both created (lower weights) before the Job.
            volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
            secret = volumes["database"]["secret"]["secretName"]
            writer = next(
                m
                for m in rendered.of_kind("ExternalSecret")
                if m["spec"]["target"]["name"] == secret
            )
            store = rendered.one("SecretStore", writer["spec"]["secretStoreRef"]["name"])
            # The hook connects as the app's migrator, never as the master or the app user.
            assert writer["spec"]["data"] == [
                {
                    "secretKey": "credentials.json",
                    "remoteRef": {"key": rendered.values["platform"]["databaseMigratorSecretArn"]},
                }
            ], (env, writer["spec"]["data"])
            account = rendered.one(
                "ServiceAccount", job["spec"]["template"]["spec"]["serviceAccountName"]
            )
            position = {id(m): i for i, m in enumerate(order)}
            assert (
                position[id(account)]
                < position[id(store)]
                < position[id(writer)]
                < position[id(job)]
                < position[id(rendered.one("Deployment"))]
            ), (env, [(m["kind"], m["metadata"]["name"]) for m in order])
            assert kinds.index("Job") < kinds.index("Deployment")


# Helm's install order for kinds (pkg/release/util/kind_sorter.go, InstallOrder).
_KIND_ORDER = [
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
    "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
]  # fmt: skip


def install_order(rendered: Render) -> list[dict[str, Any]]:
    """The order `helm install` creates things: pre-install hooks by weight (then kind,
    then name), then the release's resources by kind."""

    def kind_rank(m: dict[str, Any]) -> int:
        return _KIND_ORDER.index(m["kind"]) if m["kind"] in _KIND_ORDER else len(_KIND_ORDER)

    def annotations(m: dict[str, Any]) -> dict[str, str]:
        return m["metadata"].get("annotations", {})

    pre = [m for m in rendered.manifests if "pre-install" in annotations(m).get("helm.sh/hook", "")]
    pre.sort(
        key=lambda m: (
            int(annotations(m).get("helm.sh/hook-weight", "0")),
            kind_rank(m),
            m["metadata"]["name"],
        )
    )
    release = [m for m in rendered.manifests if "helm.sh/hook" not in annotations(m)]
    release.sort(key=lambda m: (kind_rank(m), m["metadata"]["name"]))
    return pre + release


@validator("helm")
def nothing_is_privileged(repo: RenderedRepo) -> None:
    """The restricted Pod Security profile, on every pod the chart creates."""
    for chart in charts(repo):
        namespace = yaml.safe_load((chart.path / "namespace.yaml").read_text())
        labels = namespace["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
        for rendered in chart.renders.values():
            pods = [(m, spec) for m in rendered.manifests for spec in pod_specs(m)]
            assert {m["kind"] for m, _ in pods} >= {"Deployment"}
            for manifest, pod in pods:
                where = (chart.app["name"], manifest["kind"], manifest["metadata"]["name"])
                assert pod["automountServiceAccountToken"] is False, where
                for host in ("hostNetwork", "hostPID", "hostIPC"):
                    assert not pod.get(host), where
                assert pod["securityContext"]["runAsNonRoot"] is True, where
                assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
                assert all("hostPath" not in v for v in pod.get("volumes", [])), where
                for container in pod["containers"] + pod.get("initContainers", []):
                    ctx = container["securityContext"]
                    assert ctx["privileged"] is False, where
                    assert ctx["allowPrivilegeEscalation"] is False, where
                    assert ctx["readOnlyRootFilesystem"] is True, where
                    assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] >= 10000, where
                    assert ctx["capabilities"] == {"drop": ["ALL"]}, where
                    image = container["image"]
                    assert ":latest" not in image and "@sha256:" in image, where
                    for port in container.get("ports", []):
                        assert port["containerPort"] >= 1024, where


# Only specs with a container app on the database render such an ExternalSecret.
@validator(
    "helm",
    when=lambda spec: (
        "database" in spec
        and any(
            a.get("database") and a.get("hosting", "container") == "container" for a in spec["apps"]
        )
    ),
)
def database_credentials_refresh_before_the_next_rotation(repo: RenderedRepo) -> None:
    """Every ExternalSecret of a database user's secret (the app's and the hook's) refreshes
    often enough that, with the kubelet's sync, pods hold the new credentials before the
    next rotation invalidates the previous user."""
    seen = 0
    for chart in charts(repo):
        if not chart.app["database"]:
            continue
        for env, rendered in chart.renders.items():
            platform = rendered.values["platform"]
            keys = {platform["databaseSecretArn"], platform["databaseMigratorSecretArn"]}
            for external in rendered.of_kind("ExternalSecret"):
                refs = {d["remoteRef"]["key"] for d in external["spec"].get("data", [])}
                if not refs & keys:
                    continue
                seen += 1
                delay = go_duration_seconds(external["spec"]["refreshInterval"])
                assert delay + KUBELET_SECRET_SYNC_SECONDS < MIN_ROTATION_INTERVAL_SECONDS, (
                    f"{chart.app['name']} ({env}): {external['metadata']['name']} refreshes "
                    f"every {delay} s; with the kubelet's {KUBELET_SECRET_SYNC_SECONDS} s that "
                    f"is not below the {MIN_ROTATION_INTERVAL_SECONDS} s between rotations"
                )
    assert seen, "no ExternalSecret of a database user's secret was rendered"


@validator("helm")
def traffic_identity_and_secrets_follow_adr_0005(repo: RenderedRepo) -> None:
    for chart in charts(repo):
        app = chart.app
        name = app["name"]
        for env, rendered in chart.renders.items():
            platform = rendered.values["platform"]
            serves, public = app["kind"] != "worker", app["public"]
            assert bool(rendered.of_kind("Service")) == serves
            bindings = rendered.of_kind("TargetGroupBinding")
            assert bool(bindings) == (serves and public), (name, env)
            for tgb in bindings:
                assert tgb["spec"] == {
                    "serviceRef": {"name": name, "port": app["port"]},
                    "targetGroupARN": platform["targetGroupArn"],
                    "targetType": "ip",
                }
            account = rendered.one("ServiceAccount", name)
            assert account["automountServiceAccountToken"] is False
            pod = rendered.one("Deployment")["spec"]["template"]["spec"]
            assert pod["serviceAccountName"] == name
            config = rendered.one("ConfigMap", name)["data"]
            assert config["APP_ENV"] == env and config["PORT"] == str(app["port"])
            for key, value in app["environments"][env]["env"].items():
                if key not in {"APP_ENV", "APP_TIER", "PORT"} and not key.startswith("DATABASE_"):
                    assert config[key] == value, key
            stores = {s["metadata"]["name"]: s for s in rendered.of_kind("SecretStore")}
            secrets = {s["metadata"]["name"]: s for s in rendered.of_kind("ExternalSecret")}
            if app["database"]:
                assert config["DATABASE_HOST"] == platform["databaseHost"]
                assert config["DATABASE_CREDENTIALS_FILE"].startswith("/var/run/secrets/")
                database = secrets[f"{name}-database"]["spec"]
                assert database["data"] == [
                    {
                        "secretKey": "credentials.json",
                        "remoteRef": {"key": platform["databaseSecretArn"]},
                    }
                ]
            else:
                assert not any(k.startswith("DATABASE_") for k in config)
            if app["secrets"]:
                refs = {
                    d["secretKey"]: d["remoteRef"]
                    for d in secrets[f"{name}-secrets"]["spec"]["data"]
                }
                assert set(refs) == set(app["secrets"])
                for var, ref in app["secrets"].items():
                    assert refs[var]["key"] == platform["secretPrefix"] + ref["secret"]
                    assert refs[var].get("property") == ref.get("key")
            for store in stores.values():
                aws = store["spec"]["provider"]["aws"]
                assert aws["role"] == platform["roleArn"] and aws["service"] == "SecretsManager"
                assert aws["region"] == repo.spec["environments"][env]["region"]


def _ip_blocks(peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["ipBlock"] for p in peers if "ipBlock" in p]


@validator("helm")
def network_policies_allow_only_what_the_app_needs(repo: RenderedRepo) -> None:
    """Ingress of a public app only from the load-balancer subnets, never the VPC; egress
    only to DNS, the database subnets on the database port (database apps), the Pod
    Identity agent and HTTPS outside the metadata service (infra/docs/adr/0005)."""
    for chart in charts(repo):
        app = chart.app
        for env, rendered in chart.renders.items():
            vpc = ipaddress.ip_network(repo.spec["environments"][env]["vpcCidr"])
            tiers = subnet_tier_cidrs(str(vpc))
            policy = rendered.one("NetworkPolicy", app["name"])["spec"]
            assert policy["podSelector"]["matchLabels"] == server_labels(app["name"])
            assert policy["policyTypes"] == ["Ingress", "Egress"]
            if app["kind"] == "worker":
                assert policy["ingress"] == []
            else:
                (rule,) = policy["ingress"]
                assert rule["ports"] == [{"protocol": "TCP", "port": app["port"]}]
                sources = rule["from"]
                blocks = _ip_blocks(sources)
                if app["public"]:
                    # Exactly the load-balancer tier: the ALB's interfaces, nothing else
                    # of the VPC (the pods' own subnets above all).
                    assert sorted(b["cidr"] for b in blocks) == sorted(tiers["load-balancer"]), (
                        app["name"],
                        env,
                        blocks,
                    )
                    assert all("except" not in b for b in blocks)
                    assert not any("namespaceSelector" in s for s in sources), sources
                else:
                    assert blocks == [], (app["name"], env, blocks)
            egress = policy["egress"]
            assert all(r.get("ports") for r in egress), "an egress rule without ports opens all"
            ports = {p["port"] for rule in egress for p in rule["ports"]}
            assert ports == ({53, 80, 443} | ({3306} if app["database"] else set())), ports
            for rule in egress:
                rule_ports = {p["port"] for p in rule["ports"]}
                for block in _ip_blocks(rule["to"]) if rule_ports != {443} else []:
                    # Inside the VPC only named tiers, never the VPC (or a range holding it).
                    assert not vpc.subnet_of(ipaddress.ip_network(block["cidr"])), (
                        app["name"],
                        env,
                        block,
                    )
                if 3306 in rule_ports:
                    assert rule_ports == {3306}
                    assert sorted(b["cidr"] for b in _ip_blocks(rule["to"])) == sorted(
                        tiers["isolated"]
                    ), rule
                    assert all(set(p) == {"ipBlock"} for p in rule["to"]), rule
                if 443 in rule_ports:
                    assert rule_ports == {443}
                    assert rule["to"] == [
                        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}
                    ], rule
            # Every pod the chart makes is covered by a policy of its own component.
            covered = {
                p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                for p in rendered.of_kind("NetworkPolicy")
            }
            components = {
                m["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                if m["kind"] != "Pod"
                else m["metadata"]["labels"]["app.kubernetes.io/component"]
                for m in rendered.manifests
                if m["kind"] in ("Deployment", "Job", "Pod")
            }
            assert components <= covered, (components, covered)
            # The migration hook's and the test pod's policies: the database only in its
            # subnets, and nothing inside the VPC named by the VPC's range.
            for other in rendered.of_kind("NetworkPolicy"):
                for rule in other["spec"].get("egress", []):
                    rule_ports = {p["port"] for p in rule.get("ports", [])}
                    assert rule_ports, other["metadata"]["name"]
                    if 3306 in rule_ports:
                        assert sorted(b["cidr"] for b in _ip_blocks(rule["to"])) == sorted(
                            tiers["isolated"]
                        ), other["metadata"]["name"]


@validator("helm")
def helm_test_calls_readyz_through_the_service(repo: RenderedRepo) -> None:
    for chart in charts(repo):
        app = chart.app
        for rendered in chart.renders.values():
            tests = [
                m
                for m in rendered.of_kind("Pod")
                if m["metadata"]["annotations"].get("helm.sh/hook") == "test"
            ]
            if app["kind"] == "worker":
                assert not tests
                continue
            (test,) = tests
            command = test["spec"]["containers"][0]["command"]
            url = (
                f"http://{app['name']}.{app['name']}.svc:{app['port']}{app['health']['readiness']}"
            )
            assert command[-1] == url


@validator("helm")
def spec_values_stay_data(repo: RenderedRepo) -> None:
    """Template syntax in spec values reaches the ConfigMap literally (no tpl anywhere)."""
    for chart in charts(repo):
        for env, rendered in chart.renders.items():
            config = rendered.one("ConfigMap")["data"]
            for key, value in chart.app["environments"][env]["env"].items():
                assert config[key] == value, key
    for path in (TEMPLATE / "templates").rglob("*"):
        if path.is_file():
            assert "tpl " not in path.read_text(), path


@validator("helm")
def bad_values_are_rejected_with_a_clear_message(repo: RenderedRepo) -> None:
    chart = charts(repo)[0]
    env = repo.spec["promotion"][-1]
    good = chart.renders[env].values
    loaded = load_chart(chart.path)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"image": {"tag": "latest"}}, "/image/tag"),
        ({"image": {"digest": "sha256:short"}}, "/image/digest"),
        ({"replicas": {"min": 0}}, "/replicas/min"),
        ({"rollout": {"maxSurge": "150%"}}, "/rollout/maxSurge"),
        ({"app": {"kind": "cronjob"}}, "/app/kind"),
        ({"app": {"env": {"lower_case": "x"}}}, "invalid propertyName 'lower_case'"),
        ({"platform": {"roleArn": "not-an-arn"}}, "/platform/roleArn"),
        ({"platform": {"targetGroupArn": 12}}, "/platform/targetGroupArn"),
        ({"resources": {"cpu": "lots"}}, "/resources/cpu"),
        ({"kubernetes": {"version": "1.29"}}, "/kubernetes/version"),
        ({"shutdown": {"terminationGracePeriodSeconds": 10}}, "'terminationGracePeriodSeconds'"),
        ({"shutdown": {"marginSeconds": 0}}, "/shutdown/marginSeconds"),
        ({"platform": {"loadBalancerCidrs": ["10.0.0.0/8", "any"]}}, "/platform/loadBalancerCidrs"),
        ({"surprise": True}, "additional properties 'surprise' not allowed"),
        (
            {"databaseCredentials": {"refreshInterval": "1d"}},
            "/databaseCredentials/refreshInterval",
        ),
        # An app_values from before issue 14 names the master secret: refused, never mounted.
        (
            {
                "platform": {
                    "databaseSecretArn": "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:rds!db-0000-AbCdEf"
                }
            },
            "/platform/databaseSecretArn",
        ),
        (
            {
                "platform": {
                    "databaseMigratorSecretArn": "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:x-prod-database-master-AbCdEf"
                }
            },
            "/platform/databaseMigratorSecretArn",
        ),
    ]
    for change, expected in cases:
        with pytest.raises(helm_python.HelmValuesError) as caught:
            loaded.render(deep_merge(good, change), name="x", namespace="x")
        assert expected in str(caught.value), (change, str(caught.value))
    missing = {k: v for k, v in good.items() if k != "platform"}
    with pytest.raises(helm_python.HelmValuesError, match="missing propert"):
        loaded.render(missing, name="x", namespace="x")
    # Errors the schema cannot express fail the render with the fix in the message.
    for change, expected in (
        ({"image": {"tag": ""}}, "image.tag is required"),
        ({"image": {"digest": ""}}, "image.digest is required: deploys are by digest"),
        ({"replicas": {"min": 5, "max": 4}}, "replicas.min must not exceed"),
    ):
        with pytest.raises(helm_python.HelmRenderError, match=expected):
            loaded.render(deep_merge(good, change), name="x", namespace="x")


# On the reference, the pipeline rehearsal runs these targets within its `make lint` and
# `make test` (tests/test_pipeline_rehearsal.py); here, every other spec.
@validator("helm", only=tuple(p.stem for p in sorted(SPECS.glob("*.yaml"))))
def lint_and_test_targets_pass_with_the_ci_values(repo: RenderedRepo) -> None:
    """Each chart's own `make helm-<app>-lint helm-<app>-test`, with the stand-in platform
    values they pass (ci/platform-values.yaml), through the helm shim (no helm binary here)."""
    make = require("make")
    targets = [
        f"helm-{c.app['name']}-{verb}"
        for c in nonempty(charts(repo), "charts")
        for verb in ("lint", "test")
    ]
    with tempfile.TemporaryDirectory(prefix="helm-shim-") as tmp:
        helm = install_helm_shim(Path(tmp))
        proc = subprocess.run(
            [make, *targets],
            cwd=repo.root,
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": f"{tmp}{os.pathsep}{os.environ['PATH']}", "HELM": str(helm)},
            timeout=600,
        )
    assert proc.returncode == 0, (
        f"make {' '.join(targets)}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    )
    assert proc.stdout.count("0 chart(s) failed") == len(charts(repo)) * len(repo.spec["promotion"])


@validator("helm")
def platform_mk_targets_lint_test_and_deploy(repo: RenderedRepo) -> None:
    make = require("make")
    listed = subprocess.run(
        [make, "help"], cwd=repo.root, capture_output=True, text=True, check=True
    ).stdout
    env = repo.spec["promotion"][-1]
    for chart in charts(repo):
        app = chart.app["name"]
        for target in ("lint", "test", "deploy"):
            assert f"helm-{app}-{target}" in listed
        digests = {
            f"IMAGE_DIGEST_{c.app['name'].upper().replace('-', '_')}": "sha256:" + f"{i:x}" * 64
            for i, c in enumerate(charts(repo), start=1)
        }
        dry = subprocess.run(
            [make, "-n", "deploy", f"ENV={env}", *(f"{k}={v}" for k, v in digests.items())],
            cwd=repo.root, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        chart_dir = f"deploy/helm/{app}"
        assert f"helm upgrade --install {app} {chart_dir} --namespace {app}" in dry
        assert f"-f {chart_dir}/values-{env}.yaml -f build/helm/{app}/platform-{env}.json" in dry
        assert "--rollback-on-failure --wait=watcher" in dry
        # By digest only: the digest (never a tag) is checked, then its signature, then helm.
        assert '--set-string image.tag="$tag" --set-string image.digest="$digest"' in dry
        assert "IMAGE_TAG" not in dry
        app_upgrade = dry.index(f"helm upgrade --install {app} {chart_dir} ")
        before_helm = dry[dry.index(f"bash delivery/digest.sh {app}") : app_upgrade]
        assert 'bash delivery/verify-image.sh "$repository" "$digest"' in before_helm
        # make deploy is the app-deploy executor's: it checks its access to the namespace,
        # and changes nothing cluster-wide (no namespace, no add-on).
        assert dry.index(f"kubectl get rolebinding platformgen-app-deployer --namespace {app}") < (
            app_upgrade
        )
        assert "namespace.yaml" not in dry and "kubectl apply" not in dry
        for addon in ("aws-load-balancer-controller", "external-secrets"):
            assert f"helm upgrade --install {addon} " not in dry
    # make addons is the platform executor's: the controllers, their ClusterRole for the
    # app deployer, and every app's namespace with its access.
    addons = subprocess.run(
        [make, "-n", "addons", f"ENV={env}"], cwd=repo.root, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    for addon in ("aws-load-balancer-controller", "external-secrets"):
        assert f"helm upgrade --install {addon} " in addons
    assert "-f infra/addons/app-deployer.yaml" in addons
    for chart in charts(repo):
        chart_dir = f"deploy/helm/{chart.app['name']}"
        assert (
            f"kubectl apply --server-side --field-manager=platform -f {chart_dir}/namespace.yaml "
            f"-f {chart_dir}/access.yaml" in addons
        )


@validator("helm")
def deploy_refuses_a_tag_or_a_missing_digest(repo: RenderedRepo) -> None:
    """`make deploy` runs for real and stops, before any tool or AWS call, on every way of
    naming an image other than a digest: nothing, IMAGE_TAG, a git SHA or a short digest in
    the digest variable, and IMAGE_DIGEST when it cannot say which app it is for."""
    make = require("make")
    env = repo.spec["promotion"][0]
    apps = [c.app["name"] for c in charts(repo)]
    var = {a: "IMAGE_DIGEST_" + a.upper().replace("-", "_") for a in apps}
    first = apps[0]
    sha = "0123456789abcdef0123456789abcdef01234567"
    cases: list[tuple[list[str], str]] = [
        ([], f"no image digest for {first}: set {var[first]}=sha256:<64 hex>"),
        ([f"IMAGE_TAG={sha}"], "IMAGE_TAG is refused: deploys are by digest"),
        ([f"{var[first]}={sha}"], f"{var[first]}='{sha}' is not an image digest"),
        ([f"{var[first]}=latest"], "is not an image digest"),
        ([f"{var[first]}=sha256:{'A' * 64}"], "is not an image digest"),
        ([f"{var[first]}=sha256:{'a' * 63}"], "is not an image digest"),
    ]
    if len(apps) > 1:
        cases.append(([f"IMAGE_DIGEST=sha256:{'a' * 64}"], "IMAGE_DIGEST names no app"))
    else:
        cases.append(([f"IMAGE_DIGEST={sha}"], f"IMAGE_DIGEST='{sha}' is not an image digest"))
    for args, expected in cases:
        proc = subprocess.run(
            [make, "deploy", f"ENV={env}", *args], cwd=repo.root, capture_output=True, text=True
        )
        assert proc.returncode == 2 and expected in proc.stderr, (args, proc.stderr[-2000:])
        assert "helm" not in proc.stdout, f"{args}: make ran a command before refusing"


@validator("helm")
def the_app_deployer_is_bound_only_in_its_namespaces(repo: RenderedRepo) -> None:
    """access.yaml binds the executor's Kubernetes group (modules/cluster) to the ClusterRole
    (infra/addons/app-deployer.yaml) in the app's own namespace, nowhere else."""
    cluster = (repo.root / "infra" / "modules" / "cluster" / "main.tf").read_text()
    group = re.search(r'app_deployer_group = "([^"]+)"', cluster)
    assert group, "modules/cluster names no app_deployer_group"
    role = yaml.safe_load((repo.root / "infra" / "addons" / "app-deployer.yaml").read_text())
    assert role["kind"] == "ClusterRole"
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert resources == {"targetgroupbindings", "externalsecrets", "secretstores"}, resources
    for chart in charts(repo):
        binding = yaml.safe_load((chart.path / "access.yaml").read_text())
        assert binding["kind"] == "RoleBinding", "a ClusterRoleBinding would reach every namespace"
        assert binding["metadata"]["namespace"] == chart.app["name"]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role["metadata"]["name"],
        }
        assert binding["subjects"] == [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group[1]}
        ]


# What the runtime image of the generated service can execute. Its final stage is
# gcr.io/distroless/python3-debian12 (not a :debug tag): Debian's python3 and its libraries,
# ca-certificates and tzdata, and no shell, coreutils (no sleep) or busybox
# (https://github.com/GoogleContainerTools/distroless, python3/BUILD); the stage adds only
# the virtualenv copied from the builder. platformgen's own CI builds a debootstrap
# stand-in for that base which does have `sleep`, so a container run here cannot show
# the difference: this reads what the real image is made of instead.
DISTROLESS_PYTHON = "gcr.io/distroless/python3-debian12"
DISTROLESS_PYTHON_EXECUTABLES = {"/usr/bin/python3", "/usr/bin/python3.11"}
VENV_EXECUTABLES = {"python", "python3", "python3.11", "gunicorn", "alembic"}


def runtime_executables(dockerfile: str) -> set[str]:
    """Absolute paths the final stage of a generated service's Dockerfile can exec."""
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.M))
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    base = stages[-1]
    base = args.get(base.removeprefix("${").removesuffix("}"), base)
    assert base.startswith(DISTROLESS_PYTHON + ":"), base
    assert "debug" not in base.split("@")[0], f"{base}: a :debug tag has busybox"
    out = set(DISTROLESS_PYTHON_EXECUTABLES)
    final = dockerfile[dockerfile.rindex("\nFROM ") :]
    for source in re.findall(r"^COPY --from=builder (\S+) \S+$", final, re.M):
        assert source == "/opt/venv", f"the runtime stage copies {source}: add its executables"
        out |= {f"/opt/venv/bin/{name}" for name in VENV_EXECUTABLES}
    return out


def _execs(pod: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every command the kubelet would exec in a container of the pod."""
    found = []
    for container in pod.get("initContainers", []) + pod["containers"]:
        for hook, handler in container.get("lifecycle", {}).items():
            if "exec" in handler:
                found.append((f"{container['name']} {hook}", handler["exec"]["command"]))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "exec" in container.get(probe, {}):
                found.append((f"{container['name']} {probe}", container[probe]["exec"]["command"]))
    return found


@validator("helm")
def hooks_never_exec_what_the_runtime_image_lacks(repo: RenderedRepo) -> None:
    """preStop pauses with the kubelet's sleep action on every Kubernetes version the chart
    admits (1.30+), and nothing execs a binary the distroless runtime image does not have.
    The chart refuses 1.29 and older, which had only `exec: sleep`."""
    services = {u.key: repo.root / u.dest for u in repo.units_of("service")}
    for chart in charts(repo):
        name = chart.app["name"]
        service = services.get(name)
        # A service platformgen generates: what its Dockerfile builds. Any other image (a
        # web or worker app's own): assume nothing, as distroless images have nothing.
        allowed = runtime_executables((service / "Dockerfile").read_text()) if service else set()
        loaded = load_chart(chart.path)
        good = chart.renders[repo.spec["promotion"][0]].values
        # The oldest version the chart admits, and the newest its schema lets through.
        renders = list(chart.renders.values()) + [
            render(loaded, name, "v", deep_merge(good, {"kubernetes": {"version": v}}))
            for v in ("1.30", "1.39")
        ]
        # 1.29 and older must be refused; a chart that still renders them is checked too.
        admitted_old = []
        for version in ("1.29", "1.25"):
            try:
                old = deep_merge(good, {"kubernetes": {"version": version}})
                renders.append(render(loaded, name, version, old))
                admitted_old.append(version)
            except helm_python.HelmValuesError as refused:
                assert "/kubernetes/version" in str(refused), str(refused)
        for rendered in renders:
            for manifest in rendered.manifests:
                for pod in pod_specs(manifest):
                    for where, command in _execs(pod):
                        assert command and command[0] in allowed, (
                            f"{name} ({rendered.env}) {manifest['kind']} {where} execs "
                            f"{command}: the runtime image has only {sorted(allowed)}"
                        )
            deployment = rendered.one("Deployment")["spec"]["template"]["spec"]
            pre_stop = deployment["containers"][0]["lifecycle"]["preStop"]
            assert set(pre_stop) == {"sleep"}, pre_stop
            if rendered.values["kubernetes"]["version"] == "1.30":
                for manifest in rendered.manifests:
                    validate_manifest(manifest, "1.30")
        assert not admitted_old, f"{name}: the chart admits Kubernetes {admitted_old}"


def _service_default(gunicorn_conf: str, variable: str) -> int:
    found = re.search(rf'_int\("{variable}", (\d+)\)', gunicorn_conf)
    assert found, f"the service no longer reads {variable}: update the shutdown budget"
    return int(found[1])


@validator("helm")
def shutdown_budget_fits_the_grace_period(repo: RenderedRepo) -> None:
    """preStop pause + drain + graceful stop + a margin fit in terminationGracePeriodSeconds,
    with the app's drain and graceful timeout as the pod really gets them (the chart's
    ConfigMap, else the service's own defaults), and the pause under the target group's
    deregistration delay."""
    services = {u.key: repo.root / u.dest for u in repo.units_of("service")}
    for chart in charts(repo):
        name = chart.app["name"]
        conf = None
        if name in services:
            conf = next((services[name] / "src").glob("*/gunicorn_conf.py")).read_text()
        for env, rendered in chart.renders.items():
            pod = rendered.one("Deployment")["spec"]["template"]["spec"]
            pause = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
            config = rendered.one("ConfigMap", name)["data"]
            budget = {"preStop": pause}
            for variable in ("SHUTDOWN_DELAY_SECONDS", "GUNICORN_GRACEFUL_TIMEOUT"):
                if variable in config:
                    budget[variable] = int(config[variable])
                else:
                    assert conf is not None, f"{name} ({env}): the chart does not set {variable}"
                    budget[variable] = _service_default(conf, variable)
            if conf is not None:
                # The service reads the very variables the chart sets.
                _service_default(conf, "SHUTDOWN_DELAY_SECONDS")
                _service_default(conf, "GUNICORN_GRACEFUL_TIMEOUT")
            grace = pod["terminationGracePeriodSeconds"]
            assert sum(budget.values()) + SHUTDOWN_MARGIN_SECONDS <= grace, (
                f"{name} ({env}): {budget} + {SHUTDOWN_MARGIN_SECONDS} s margin > "
                f"terminationGracePeriodSeconds {grace}"
            )
            assert pause + 10 <= DEREGISTRATION_DELAY_SECONDS, (name, env, pause)


@validator("helm")
def public_apps_are_marked_internet_facing_and_refuse_dev_mode(repo: RenderedRepo) -> None:
    """The service refuses AUTH_DEV_MODE when APP_INTERNET_FACING is true (issue 11): the
    chart sets it from `public`, and refuses to render dev mode on a public app at all."""
    for chart in charts(repo):
        for env, rendered in chart.renders.items():
            data = rendered.one("ConfigMap")["data"]
            assert data["APP_INTERNET_FACING"] == str(chart.app["public"]).lower(), (env, data)
    public = [c for c in charts(repo) if c.app["public"]]
    for chart in public[:1]:
        env = repo.spec["promotion"][0]
        good = chart.renders[env].values
        loaded = load_chart(chart.path)
        for value in ("true", "1", "yes"):
            change = {"app": {"env": {"AUTH_DEV_MODE": value}}}
            with pytest.raises(helm_python.HelmRenderError, match="AUTH_DEV_MODE is set"):
                loaded.render(deep_merge(good, change), name="x", namespace="x")
        loaded.render(
            deep_merge(good, {"app": {"env": {"AUTH_DEV_MODE": "false"}}}), name="x", namespace="x"
        )
