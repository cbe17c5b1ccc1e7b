"""Validators of the `terraform` and `terraform-env` areas: the rendered infra/ of every spec.

Per spec: `terraform fmt -check`, offline `init` + `validate` of every root (the
bootstrap and each environment), checkov with zero failed checks and a written reason
for every skip, and the environment tfvars against the spec. The modules are static
files, identical for every spec (checked here), so their `terraform test` suites run
once, in tests/test_terraform_modules.py; the apply against moto is in
tests/test_terraform_moto.py.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from support.terraform import Terraform, ToolchainMissing, roots_of
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, tool_venv_bin

from generator.spec.checks import protected_plan

from . import RenderedRepo, require, validator

TEMPLATE_MODULES = ROOT / "templates" / "terraform" / "infra" / "modules"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(:?)(.*)")


@functools.cache
def toolchain() -> Terraform:
    try:
        return Terraform(Path(tempfile.mkdtemp(prefix="platformgen-tf-")))
    except ToolchainMissing as exc:
        pytest.fail(f"Terraform toolchain: {exc}", pytrace=False)


def infra_copy(repo: RenderedRepo) -> Path:
    """A private copy of the rendered infra/, so .terraform folders never touch the render."""
    target = Path(tempfile.mkdtemp(prefix=f"platformgen-tf-{repo.name}-")) / "infra"
    shutil.copytree(repo.root / "infra", target)
    return target


@validator("terraform")
def terraform_fmt_is_clean(repo: RenderedRepo) -> None:
    tf = toolchain()
    result = tf.run(["fmt", "-check", "-recursive", "-diff", "-no-color"], repo.root / "infra")
    assert result.ok, result.describe()


@validator("terraform")
def modules_are_static_and_identical_for_every_spec(repo: RenderedRepo) -> None:
    rendered = repo.root / "infra" / "modules"
    expected = {p.relative_to(TEMPLATE_MODULES) for p in TEMPLATE_MODULES.rglob("*") if p.is_file()}
    actual = {p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file()}
    assert actual == expected, f"module files differ: {sorted(actual ^ expected)}"
    for rel in expected:
        assert (rendered / rel).read_bytes() == (TEMPLATE_MODULES / rel).read_bytes(), rel
    assert not list(TEMPLATE_MODULES.rglob("*.jinja")), "modules must stay static files"


@validator("terraform-env")
def every_root_commits_the_provider_lock(repo: RenderedRepo) -> None:
    """The bootstrap and every environment root carry the template's lock file (the modules
    are checked byte for byte above); tests/test_provider_lock.py proves its hashes."""
    lock = (ROOT / "templates" / "terraform-env" / ".terraform.lock.hcl").read_bytes()
    for root in roots_of(repo.root / "infra"):
        path = root / ".terraform.lock.hcl"
        assert path.is_file() and path.read_bytes() == lock, f"{path}: not the template's lock file"


@validator("terraform-env")
def every_root_inits_offline_and_validates(repo: RenderedRepo) -> None:
    tf = toolchain()
    infra = infra_copy(repo)
    try:
        roots = roots_of(infra)
        envs = {p.name for p in (infra / "envs").iterdir()}
        assert envs == set(repo.spec["environments"]), envs
        failures = [r.describe() for r in tf.each(roots, "init_and_validate") if not r.ok]
        assert not failures, "\n\n".join(failures)
    finally:
        shutil.rmtree(infra.parent, ignore_errors=True)


@validator("terraform")
def checkov_finds_nothing_and_every_skip_says_why(repo: RenderedRepo) -> None:
    checkov = tool_venv_bin("checkov")
    infra = infra_copy(repo)
    try:
        for tf_file in infra.rglob("*.tf"):
            for line in tf_file.read_text().splitlines():
                match = SKIP_COMMENT.search(line)
                if match:
                    assert match[2] == ":" and len(match[3].strip()) >= 20, (
                        f"{tf_file.relative_to(infra)}: checkov skip {match[1]} needs a written reason"
                    )
        proc = subprocess.run(
            [
                str(checkov),
                "-d",
                str(infra),
                "--framework",
                "terraform",
                "-o",
                "json",
                # --quiet would drop the skipped checks, whose reasons are checked below.
                *(a for a in CHECKOV_ARGS if a != "--quiet"),
            ],
            capture_output=True,
            text=True,
            env={**CHECKOV_ENV, "PATH": "/usr/bin:/bin", "HOME": str(infra.parent)},
            timeout=900,
            check=False,
        )
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"checkov gave no JSON (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        reports = report if isinstance(report, list) else [report]
        failed = [
            f"{c['check_id']} {c['resource']} ({c['file_path']})"
            for r in reports
            for c in r["results"]["failed_checks"]
        ]
        assert not failed, "checkov failed checks:\n" + "\n".join(failed)
        passed = sum(r["summary"]["passed"] for r in reports)
        assert passed > 100, f"checkov passed only {passed} checks: did it scan the modules?"
        for r in reports:
            for skipped in r["results"]["skipped_checks"]:
                reason = skipped["check_result"].get("suppress_comment") or ""
                assert len(reason.strip()) >= 20, f"{skipped['check_id']} skipped without a reason"
    finally:
        shutil.rmtree(infra.parent, ignore_errors=True)


@validator("terraform-env")
def tfvars_carry_the_spec_as_data(repo: RenderedRepo) -> None:
    spec = repo.spec
    for name, env in spec["environments"].items():
        root = repo.root / "infra" / "envs" / name
        data = json.loads((root / "platform.auto.tfvars.json").read_text())
        assert data["environment"] == name and data["tier"] == env["tier"]
        assert data["account_id"] == env["account"] and data["region"] == env["region"]
        assert data["network"] == {
            "vpc_cidr": env["vpcCidr"],
            "nat_gateways": env["natGateways"],
            "interface_endpoints": env["interfaceEndpoints"],
        }
        assert set(data["apps"]) == {a["name"] for a in spec["apps"]}
        assert (data["database"] is None) == ("database" not in spec)
        if data["database"]:
            assert data["database"]["multi_az"] == env["database"]["multiAz"]
            assert data["database"]["deletion_protection"] == env["database"]["deletionProtection"]
        assert data["tags"]["owner"] == spec["project"]["owner"]
        assert data["edge"]["waf_rule_groups"] == spec["edge"]["waf"]["managedRuleGroups"]
        # Every environment pulls from the one registry of the artifacts account, and its
        # executors build the bundles of that account's bucket.
        assert data["artifacts"] == {
            "account_id": spec["artifacts"]["account"],
            "region": spec["project"]["region"],
        }
        # The DMS migration: in its target environment only, the spec's settings as data.
        migration = spec.get("migration")
        if migration and migration["targetEnvironment"] == name and "database" in spec:
            source, dms = migration["source"], migration["dms"]
            assert data["migration"] == {
                "source": {
                    "database": source["database"],
                    "port": source["port"],
                    "secret_name": source["passwordSecret"],
                    "tls": {"required": "require"}.get(source["tls"], source["tls"]),
                    "ca_certificate_path": source["caCertificate"],
                },
                "tables": migration["tables"],
                "dms": {
                    "instance_class": dms["instanceClass"],
                    "allocated_storage_gb": dms["allocatedStorageGb"],
                    "multi_az": dms["multiAz"],
                    "migration_type": dms["migrationType"],
                    "lob_mode": dms["lobMode"],
                    "lob_max_size_kb": dms["lobMaxSizeKb"],
                    "validation": dms["validation"],
                },
                "window": migration["window"],
            }
        else:
            assert data["migration"] is None, f"{name} is not the migration's target"
        backend = (root / "backend.tfbackend").read_text()
        assert f'"{spec["project"]["name"]}-{name}-tfstate-{env["account"]}"' in backend
        assert "use_lockfile = true" in backend
    bootstrap = json.loads(
        (repo.root / "infra" / "bootstrap" / "environments.auto.tfvars.json").read_text()
    )
    assert list(bootstrap["environments"]) == sorted(spec["environments"])
    assert bootstrap["account_baseline"] == spec["accountBaseline"]
    assert bootstrap["log_retention_days"] == spec["observability"]["logRetentionDays"]
    # Only the deliverer is trusted by the CI roles; the app-deploy executor syncs the
    # public static apps' buckets.
    assert bootstrap["delivery"] == {
        "provider": spec["pipelines"]["deliver"],
        "artifacts_account_id": spec["artifacts"]["account"],
        "artifacts_region": spec["project"]["region"],
    }
    assert bootstrap["static_apps"] == [
        a["name"] for a in spec["apps"] if a["hosting"] == "static" and a["public"]
    ]


@validator("terraform-env")
def roles_and_people_follow_the_spec(repo: RenderedRepo) -> None:
    """The people of `environments.<env>.access` reach the bootstrap (trust) and the root
    (EKS access entries); a plan role is protected exactly where checks.protected_plan says,
    in the bootstrap's input and in docs/architecture.md ("Who can deploy what")."""
    spec = repo.spec
    bootstrap = json.loads(
        (repo.root / "infra" / "bootstrap" / "environments.auto.tfvars.json").read_text()
    )
    doc = (repo.root / "docs" / "architecture.md").read_text()
    section = doc.split("## Who can deploy what", 1)[1].split("\n## ", 1)[0]
    for name, env in spec["environments"].items():
        people = {
            "read_only": env["access"]["readOnly"],
            "break_glass": env["access"]["breakGlass"],
        }
        assert bootstrap["environments"][name]["access"] == people, name
        root = json.loads(
            (repo.root / "infra" / "envs" / name / "platform.auto.tfvars.json").read_text()
        )
        assert root["access"] == people, name
        replicas = "database" in spec and env["database"]["readReplicas"] > 0
        assert bootstrap["environments"][name]["reads_master_secret"] == replicas, name
        row = re.search(rf"^\| {name}( \(protected\))? \|(.*)$", section, re.M)
        assert row, f"architecture.md lists no row for {name} under 'Who can deploy what'"
        assert bool(row[1]) == protected_plan(spec, name), (name, row[0])
        for arn in [*people["read_only"], *people["break_glass"]]:
            assert f"`{arn}`" in row[2], (name, arn)
    if bootstrap["bitbucket"] is not None:
        given = spec["pipelines"].get("bitbucket", {}).get("planEnvironments", {})
        assert bootstrap["bitbucket"]["plan_environment_uuids"] == given
        deploy = spec["pipelines"].get("bitbucket", {}).get("deployEnvironments", {})
        assert bootstrap["bitbucket"]["deploy_environment_uuids"] == deploy


@validator("terraform")
def architecture_diagram_is_svg_of_this_spec(repo: RenderedRepo) -> None:
    svg = repo.root / "docs" / "architecture.svg"
    root = ET.fromstring(svg.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t.strip() for t in root.itertext() if t.strip())
    for app in repo.spec["apps"]:
        assert app["name"] in text, f"{app['name']} missing from the diagram"
    for label in (
        "public subnets",
        "load-balancer subnets",
        "private subnets",
        "isolated subnets",
        "Internet",
    ):
        assert label in text, label
    public = [
        a
        for a in repo.spec["apps"]
        if a["public"] and (a["hosting"] == "container" or a["kind"] == "web")
    ]
    assert ("CloudFront" in text) == bool(public)
    containers = any(a["hosting"] == "container" for a in public)
    assert ("ALB" in text) == containers
    # The one way in: CloudFront -> its VPC origin -> the internal ALB (never the internet).
    assert ("CloudFront VPC origin" in text) == containers
    assert ("internal ALB" in text) == containers
    if containers:
        assert "443 from the VPC origin only" in text
    assert ("MySQL" in text) == ("database" in repo.spec)
    # What can reach what inside the VPC (infra/docs/adr/0005): enforced policies, the
    # pods' one source, the database's one group.
    assert "NetworkPolicy enforced" in text
    assert ("pods admit only the load-balancer subnets" in text) == containers
    if "database" in repo.spec:
        # With a migration, DMS's replication instance reaches RDS too (runbooks.py).
        only = "migration" not in repo.spec
        assert ("3306 from the database-clients group only" in text) == only
        assert "nodes' security group" not in text
    doc = (repo.root / "docs" / "architecture.md").read_text()
    assert "architecture.svg" in doc


SVG = "{http://www.w3.org/2000/svg}"


def _svg_groups(svg: Path) -> dict[str, tuple[str, str, float]]:
    """id -> (class, the group's text, the y of its first rect) of every <g id=...>."""
    root = ET.fromstring(svg.read_bytes())
    assert root.tag == f"{SVG}svg"
    groups = {}
    for g in root.iter(f"{SVG}g"):
        text = " ".join(t.strip() for t in g.itertext() if t.strip())
        rect = g.find(f"{SVG}rect")
        assert rect is not None, f"group {g.get('id')} draws no box"
        groups[g.get("id", "")] = (g.get("class", ""), text, float(rect.get("y", "0")))
    return groups


@validator("terraform")
def delivery_diagram_is_svg_of_this_spec(repo: RenderedRepo) -> None:
    """docs/delivery.svg read back against the resolved spec: which CI system delivers and
    which only checks pull requests, the artifacts account and what it holds, and every
    environment in promotion order with its executors, its approval and its bake."""
    spec, project = repo.spec, repo.spec["project"]["name"]
    svg = repo.root / "docs" / "delivery.svg"
    groups = _svg_groups(svg)
    title = ET.fromstring(svg.read_bytes()).find(f"{SVG}title")
    assert title is not None and project in (title.text or "")
    deliver = spec["pipelines"]["deliver"]
    providers = spec["pipelines"]["providers"]
    assert deliver in providers
    assert {g for g in groups if g.startswith("ci-")} == {f"ci-{p}" for p in providers}
    for provider in providers:
        kind, text, _ = groups[f"ci-{provider}"]
        delivers = provider == deliver
        assert kind == ("delivers" if delivers else "checks"), (provider, kind)
        assert (f"{provider}: delivers" in text) == delivers, text
        assert ("pull-request checks only" in text) == (not delivers), text
    account = spec["artifacts"]["account"]
    _, text, artifacts_y = groups["artifacts"]
    for expected in (
        f"artifacts account {account} ({spec['project']['region']})",
        f"{project}-artifacts-{account}",
        f"alias/{project}-image-signing",
        f"{project}-publish ({deliver} only)",
    ):
        assert expected in text, (expected, text)
    shared = [n for n in spec["promotion"] if spec["environments"][n]["account"] == account]
    assert ("a tooling account of its own" in text) == (not shared), text
    if shared:
        assert f"shared with {', '.join(shared)}" in text, text
    containers = [a["name"] for a in spec["apps"] if a["hosting"] == "container"]
    for app in containers[:3]:
        assert f"{project}/{app}" in text, (app, text)
    for app in containers[3:]:
        assert f"{project}/{app}" not in text
    assert (f"and {len(containers) - 3} more" in text) == (len(containers) > 3), text
    assert ("no container app" in text) == (not containers), text
    envs = [g for g in groups if g.startswith("env-")]
    assert envs == [f"env-{name}" for name in spec["promotion"]], envs
    heights = [groups[g][2] for g in envs]
    assert heights == sorted(heights) and heights[0] > artifacts_y, "not in promotion order"
    for name in spec["promotion"]:
        env = spec["environments"][name]
        _, text, _ = groups[f"env-{name}"]
        for expected in (
            f"{name} ({env['tier']}), account {env['account']}, {env['region']}",
            f"role {project}-{name}-ci",
            f"trusted by {deliver} only",
            f"{project}-{name}-apply: make plan apply addons",
            f"{project}-{name}-deploy: make deploy (by digest)",
            f"approval first: {'required' if env['approval'] else 'none'}",
            f"bake: {env['bakeMinutes']} min",
        ):
            assert expected in text, (name, expected, text)
    assert "delivery.svg" in (repo.root / "docs" / "delivery.md").read_text()


def _health_check_default(repo: RenderedRepo) -> dict[str, str]:
    """The load-balancer module's health_check default, as written in the rendered module."""
    text = (repo.root / "infra" / "modules" / "load-balancer" / "variables.tf").read_text()
    block = re.search(r'variable "health_check" \{.*?default = \{(.*?)\}', text, re.S)
    assert block, "no health_check default in the load-balancer module"
    return dict(re.findall(r"(\w+)\s*=\s*(\d+)", block[1]))


@validator("terraform")
def deploy_time_quotes_the_rendered_settings(repo: RenderedRepo) -> None:
    """docs/deploy-time.md: a total row per environment in promotion order with its bake,
    the merge-to-last total, and every chart and load-balancer setting it quotes equal to
    the rendered chart and Terraform module (so the page cannot drift from them)."""
    spec = repo.spec
    doc = (repo.root / "docs" / "deploy-time.md").read_text()
    totals = doc.split("## Totals", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| \d+ s \| \d+ s \| ([^|]+) \|", totals, re.M)
    assert [name for name, _ in rows] == spec["promotion"], rows
    for i, (name, bake) in enumerate(rows):
        last = i == len(rows) - 1
        expected = "(last: serving)" if last else f"{spec['environments'][name]['bakeMinutes']} min"
        assert bake.strip() == expected, (name, bake)
    last = spec["promotion"][-1]
    assert re.search(rf"\*\*merge to {last} serving\*\* .*\*\*\d+\.\d min\*\*", totals), totals
    assert "**Expected total for this platform: " in doc
    containers = [a["name"] for a in spec["apps"] if a["hosting"] == "container"]
    assert ("### The rollout, and the settings behind it" in doc) == bool(containers)
    for app in containers:
        chart = repo.root / "deploy" / "helm" / app
        values = yaml.safe_load((chart / "values.yaml").read_text())
        rollout, probes, shutdown = values["rollout"], values["probes"], values["shutdown"]
        for quoted in (
            f"| `rollout.maxSurge` | {rollout['maxSurge']} |",
            f"| `rollout.minReadySeconds` | {rollout['minReadySeconds']} |",
            f"| `rollout.progressDeadlineSeconds` | {rollout['progressDeadlineSeconds']} |",
            f"| `probes.startup` | every {probes['startup']['periodSeconds']} s, up to "
            f"{probes['startup']['failureThreshold']} failures |",
            f"| `probes.readiness` | every {probes['readiness']['periodSeconds']} s, timeout "
            f"{probes['readiness']['timeoutSeconds']} s, "
            f"{probes['readiness']['failureThreshold']} failures |",
            f"preStop {shutdown['preStopSleepSeconds']} s + drain {shutdown['drainSeconds']} s"
            f" + graceful {shutdown['gracefulTimeoutSeconds']} s + margin "
            f"{shutdown['marginSeconds']} s = {sum(shutdown.values())} s",
            f"`migration.activeDeadlineSeconds: {values['migration']['activeDeadlineSeconds']}`",
            f"`backoffLimit: {values['migration']['backoffLimit']}`",
        ):
            assert quoted in doc, (app, quoted)
        deployment = (chart / "templates" / "deployment.yaml").read_text()
        unavailable = re.search(r"^\s+maxUnavailable: (\d+)$", deployment, re.M)
        assert unavailable and f"| `maxUnavailable` | {unavailable[1]} |" in doc
        pdb = re.search(r"maxUnavailable: (\d+)", (chart / "templates" / "pdb.yaml").read_text())
        assert pdb and f"`maxUnavailable: {pdb[1]}`" in doc
        make = (chart / "platform.mk").read_text()
        for flag in ("--rollback-on-failure", "--wait=watcher", "--timeout 10m"):
            assert flag in make and flag in doc, flag
        hc = _health_check_default(repo)
        assert (
            f"every {hc['interval']} s, timeout {hc['timeout']} s, healthy after "
            f"{hc['healthy_threshold']}, unhealthy after {hc['unhealthy_threshold']}"
        ) in doc
        assert f"| deregistration delay | {hc['deregistration_delay']} s |" in doc
    assert "deploy-time.md" in (repo.root / "docs" / "README.md").read_text()


DELIVERY_DOCS = ("docs/delivery.md", "docs/deploy-time.md", "docs/runbooks/promotion.md")


@validator("terraform")
def delivery_docs_link_to_files_that_exist(repo: RenderedRepo) -> None:
    """Every relative link of the delivery docs (to each other, the runbook, the infra ADRs)
    names a file of the rendered repository."""
    for doc in DELIVERY_DOCS:
        path = repo.root / doc
        links = re.findall(r"\]\(([^)#:]+?)(?:#[^)]*)?\)", path.read_text())
        assert links, f"{doc} links to nothing"
        for link in links:
            assert (path.parent / link).is_file(), f"{doc}: {link} does not exist"


def _default_interface_endpoints(repo: RenderedRepo) -> list[str]:
    """modules/network's default interface endpoints, read from its variables.tf."""
    text = (repo.root / "infra" / "modules" / "network" / "variables.tf").read_text()
    block = text.split('variable "interface_endpoints"', 1)[1].split("\n}\n", 1)[0]
    default = re.search(r"^\s*default\s*=\s*(\[.*?\])\s*$", block, re.M)
    assert default, "modules/network's interface_endpoints has no default list"
    return json.loads(default[1])


@validator("terraform")
def cost_estimate_states_its_price_date(repo: RenderedRepo) -> None:
    doc = (repo.root / "docs" / "costs.md").read_text()
    assert re.search(r"[Pp]rices as of \d{4}-\d{2}-\d{2}", doc), "state the price date"
    for name, env in repo.spec["environments"].items():
        assert f"## {name}" in doc, f"no estimate for {name}"
        section = doc.split(f"## {name} (", 1)[1].split("\n## ", 1)[0]
        endpoints = next(line for line in section.splitlines() if "VPC interface endpoints" in line)
        # Each interface endpoint of modules/network's default list, in each of 3 zones, at
        # 0.01 USD per hour for 730 hours a month.
        services = _default_interface_endpoints(repo)
        monthly = f"{len(services) * 3 * 0.01 * 730:.2f}" if env["interfaceEndpoints"] else "0.00"
        assert endpoints.endswith(f"| {monthly} |"), (endpoints, services)
        assert env["interfaceEndpoints"] is False or f"{len(services)} services" in endpoints
    assert "USD" in doc and "interfaceEndpoints" in doc


@validator("terraform")
def infra_make_targets_are_registered(repo: RenderedRepo) -> None:
    make = require("make")
    first = repo.spec["promotion"][0]
    out = subprocess.run(
        [make, "-n", "plan", "apply", "deploy", f"ENV={first}"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert f"-chdir=infra/envs/{first} plan" in out.stdout
    assert f"-chdir=infra/envs/{first} apply" in out.stdout
    helped = subprocess.run([make, "help"], cwd=repo.root, capture_output=True, text=True)
    for target in (
        "infra-bootstrap",
        "infra-artifacts",
        "infra-addons",
        "infra-lint",
        "infra-test",
    ):
        assert target in helped.stdout, target


def _has_database(spec: dict) -> bool:
    return "database" in spec


@validator("terraform-env")
def backups_follow_the_spec(repo: RenderedRepo) -> None:
    """Where each environment's database copies go, how long they stay, and the backup
    account's root: rendered exactly when and as the spec says."""
    spec = repo.spec
    backup = spec.get("backup", {})
    for name, env in spec["environments"].items():
        data = json.loads(
            (repo.root / "infra/envs" / name / "platform.auto.tfvars.json").read_text()
        )
        expected = (
            {
                "account_id": backup.get("account"),
                "dr_region": backup.get("region"),
                "copy_retention_days": env["database"]["copyRetentionDays"],
            }
            if _has_database(spec)
            else None
        )
        assert data["backup"] == expected, (name, data["backup"])
        # Copies always leave the account or the region they protect.
        assert expected is None or (
            expected["account_id"] or expected["dr_region"] not in (None, env["region"])
        )
    root = repo.root / "infra" / "backup"
    assert root.is_dir() == (_has_database(spec) and "account" in backup), "infra/backup/"
    assert (repo.root / "docs/runbooks/restore.md").is_file() == _has_database(spec)
    if root.is_dir():
        tfvars = json.loads((root / "backup.auto.tfvars.json").read_text())
        assert tfvars["backup_account_id"] == backup["account"]
        assert tfvars["environments"] == {
            name: {
                "account_id": env["account"],
                "region": env["region"],
                "tier": env["tier"],
                "copy_retention_days": env["database"]["copyRetentionDays"],
            }
            for name, env in spec["environments"].items()
        }
        assert {p.name for p in root.glob("*.tfbackend")} == {
            f"{name}.tfbackend" for name in spec["environments"]
        }


@validator("terraform")
def artifacts_follow_the_spec(repo: RenderedRepo) -> None:
    """infra/artifacts, rendered for every spec: its account (artifacts.account, resolved),
    one repository per container app (none without one), every environment's account, and
    the trust of the one delivering provider."""
    spec = repo.spec
    root = repo.root / "infra" / "artifacts"
    data = json.loads((root / "artifacts.auto.tfvars.json").read_text())
    assert data["account_id"] == spec["artifacts"]["account"]
    assert data["region"] == spec["project"]["region"]
    assert data["apps"] == sorted(a["name"] for a in spec["apps"] if a["hosting"] == "container")
    assert data["environments"] == {
        n: {"account_id": e["account"], "tier": e["tier"]} for n, e in spec["environments"].items()
    }
    deliver = spec["pipelines"]["deliver"]
    assert data["deliver"]["provider"] == deliver
    assert data["deliver"]["branch"] == spec["pipelines"]["branch"]
    assert (data["deliver"]["github_repository"] is not None) == (deliver == "github")
    assert (data["deliver"]["bitbucket"] is not None) == (deliver == "bitbucket")
    backend = (root / "artifacts.tfbackend").read_text()
    assert f'"{spec["project"]["name"]}-artifacts-state-{spec["artifacts"]["account"]}"' in backend
    assert f'region       = "{spec["project"]["region"]}"' in backend


@validator("terraform-env", when=_has_database)
def the_restore_runbook_states_rpo_and_rto_of_every_environment(repo: RenderedRepo) -> None:
    spec = repo.spec
    backup = spec.get("backup", {})
    runbook = (repo.root / "docs" / "runbooks" / "restore.md").read_text()
    start = spec["database"]["backupWindow"][:5]
    snapshot = f"{(int(start[:2]) + 12) % 24:02d}:{start[3:]} UTC"
    assert f"every day at {snapshot}" in runbook, snapshot
    sections = re.findall(r"^### (\w+) \((\w+), ([a-z0-9-]+)\)$", runbook, re.M)
    assert sections == [
        (name, spec["environments"][name]["tier"], spec["environments"][name]["region"])
        for name in spec["promotion"]
    ], sections
    for name in spec["promotion"]:
        env = spec["environments"][name]
        table = runbook.split(f"### {name} (")[1].split("\n### ")[0]
        rows = {
            row.split("|")[1].strip(): [c.strip() for c in row.split("|")[2:-1]]
            for row in table.splitlines()
            if row.startswith("| ") and not row.startswith("| failure")
        }
        multi_az = env["database"]["multiAz"]
        assert rows["instance or zone failure"][0].startswith("0 (" if multi_az else "up to 5")
        assert (
            f"last {env['database']['backupRetentionDays']} day"
            in rows["bad change or deleted data"][0]
        )
        account_rpo = rows["account compromised or lost"][0]
        region_rpo = rows["region lost"][0]
        assert ("not covered" in account_rpo) == ("account" not in backup), account_rpo
        assert ("not covered" in region_rpo) == ("region" not in backup), region_rpo
        copies = f"for {env['database']['copyRetentionDays']} days"
        assert copies in account_rpo or copies in region_rpo
    architecture = (repo.root / "docs" / "architecture.md").read_text()
    assert "## Backups and recovery" in architecture and "runbooks/restore.md" in architecture
    assert ("There is no backup account" in architecture) == ("account" not in backup)
