"""modules/migration applied to a moto server: what moto implements of AWS DMS.

The module runs unchanged (a copy of the template) from a small root that gives it what the
environment root would (a VPC with two private subnets, the database's security group, the
environment's KMS key and alarm topic; the source's secret is created first, as people
do). The apply targets what moto can create, boto3 reads it back, and the root is destroyed.

moto has no DMS certificates (ImportCertificate), event subscriptions
(CreateEventSubscription) or Serverless replication configs, and its
CreateReplicationInstance answers timestamps the provider cannot decode, so the instance,
the task and the CDC alarms are not applied either (MOTO_DMS_GAPS, NOT_APPLIED; the source
uses tls require, which needs no certificate). The module's `terraform test` asserts all of
them; DMS's connections, validation and CDC exist only on AWS (docs/terraform.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.moto import MotoServer, moto_server
from support.terraform import Terraform
from test_terraform_moto import REGION, Steps, ok, provider_override

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "templates" / "terraform" / "infra" / "modules" / "migration"
ACCOUNT = "111111111111"
NAME = "acme-prod"
SERVICES = ["dms", "ec2", "iam", "kms", "cloudwatch", "secretsmanager", "sns", "sts"]

# Not applied because moto does not implement them (and the apply targets the rest).
MOTO_DMS_GAPS = {
    "module.migration.aws_dms_certificate.source": "moto has no DMS certificate API (ImportCertificate): the apply uses tls require, and tests/migration.tftest.hcl asserts the certificate and verify-full",
    "module.migration.aws_dms_event_subscription.instance": "moto has no DMS event subscription API (CreateEventSubscription)",
    "module.migration.aws_dms_event_subscription.task": "moto has no DMS event subscription API (CreateEventSubscription)",
    "module.migration (DMS Serverless)": "moto has no DMS Serverless (replication configs); the module uses a replication instance (infra/docs/adr/0013-dms-migration.md)",
}  # fmt: skip
# Applied (terraform apply -target): everything of the module but the replication instance
# and what needs it. moto's CreateReplicationInstance answers its timestamps as strings,
# which the provider's AWS SDK refuses to decode ("expected TStamp to be a JSON Number"), so
# the instance cannot be created through Terraform, nor the task and the CDC latency alarms
# that name it.
APPLIED = [
    "aws_iam_role.dms_vpc", "aws_iam_role_policy_attachment.dms_vpc",
    "aws_iam_role.dms_logs", "aws_iam_role_policy_attachment.dms_logs",
    "aws_iam_role.dms", "aws_iam_role_policy.dms",
    "aws_dms_replication_subnet_group.this", "aws_security_group.this",
    "aws_vpc_security_group_egress_rule.source", "aws_vpc_security_group_egress_rule.https",
    "aws_vpc_security_group_egress_rule.database",
    "aws_vpc_security_group_ingress_rule.database_from_dms",
    "aws_dms_endpoint.source", "aws_dms_endpoint.target",
]  # fmt: skip
NOT_APPLIED = {
    "module.migration.aws_dms_replication_instance.this": "moto's CreateReplicationInstance answers timestamps as strings, which the provider's SDK refuses (expected TStamp to be a JSON Number); tests/migration.tftest.hcl asserts it is private, encrypted and sized from the spec",
    "module.migration.aws_dms_replication_task.this": "needs the replication instance; tests/migration.tftest.hcl asserts its mappings, settings and that it is created stopped",
    "module.migration.aws_cloudwatch_metric_alarm.cdc_latency": "its dimensions name the instance and the task; tests/migration.tftest.hcl asserts both alarms",
}  # fmt: skip

ROOT_TF = """\
resource "aws_vpc" "this" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_subnet" "private" {
  for_each          = { a = "10.0.1.0/24", b = "10.0.2.0/24" }
  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = "ap-southeast-2${each.key}"
}
resource "aws_security_group" "database" {
  name        = "acme-prod-database"
  description = "stand-in for the database's group"
  vpc_id      = aws_vpc.this.id
}
resource "aws_kms_key" "this" {
  description = "stand-in for the environment's key"
}
resource "aws_sns_topic" "alarms" {
  name = "acme-prod-alarms"
}
resource "aws_secretsmanager_secret" "dms" {
  name       = "acme/prod/database/dms"
  kms_key_id = aws_kms_key.this.arn
}
module "migration" {
  source                     = "./modules/migration"
  name                       = "acme-prod"
  secret_prefix              = "acme/prod/"
  vpc_id                     = aws_vpc.this.id
  subnet_ids                 = [for s in aws_subnet.private : s.id]
  database_security_group_id = aws_security_group.database.id
  instance_class             = "dms.c6i.large"
  allocated_storage_gb       = 50
  multi_az                   = false
  kms_key_arn                = aws_kms_key.this.arn
  alarm_topic_arn            = aws_sns_topic.alarms.arn
  permissions_boundary       = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
  tables                     = { include = ["%"], exclude = ["tmp_%"] }
  lob                        = { mode = "limited", max_size_kb = 512 }
  target_secret_arn          = aws_secretsmanager_secret.dms.arn
  source_database = {
    database    = "acme"
    port        = 25060
    secret_name = "acme/migration/digitalocean-source"
    tls         = "require"
  }
}
output "task_arn" {
  value = module.migration.replication_task_arn
}
"""


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=moto.endpoint,
        region_name=REGION,
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
        verify=str(moto.ca_bundle),
    )


@pytest.mark.alone
@pytest.mark.slow
def test_the_migration_module_applies_against_moto(terraform: Terraform, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(
        MODULE, root / "modules" / "migration", ignore=shutil.ignore_patterns("tests", ".terraform")
    )
    (root / "main.tf").write_text(ROOT_TF)
    steps = Steps(terraform, tmp_path / "terraform-logs")
    with moto_server(tmp_path / "moto.log", ACCOUNT, iam_load_managed_policies="true") as moto:
        provider = provider_override(moto).replace(
            "  endpoints {\n",
            f'  region = "{REGION}"\n  allowed_account_ids = ["{ACCOUNT}"]\n  endpoints {{\n',
        )
        endpoints = "\n".join(f'    {s} = "{moto.endpoint}"' for s in SERVICES)
        provider = provider.split("  endpoints {")[0] + f"  endpoints {{\n{endpoints}\n  }}\n}}\n"
        (root / "providers.tf").write_text(provider)
        # People create the source's secret in the target account before the apply.
        _client(moto, "secretsmanager").create_secret(
            Name="acme/migration/digitalocean-source",
            SecretString=json.dumps(
                {"username": "dms", "password": "x", "host": "db.example.com", "port": 25060}
            ),
        )
        ok(steps.record("init", terraform.init(root)))
        try:
            targets = [f"-target=module.migration.{address}" for address in APPLIED]
            apply = ["apply", "-auto-approve", "-no-color", "-input=false", *targets]
            ok(steps.run("apply", apply, root, timeout=600))
            check(moto)
        finally:
            ok(
                steps.run(
                    "destroy",
                    ["destroy", "-auto-approve", "-no-color", "-input=false"],
                    root,
                    timeout=600,
                )
            )
            steps.report()
        assert _client(moto, "dms").describe_endpoints()["Endpoints"] == []


def check(moto: MotoServer) -> None:
    dms, ec2, iam = _client(moto, "dms"), _client(moto, "ec2"), _client(moto, "iam")
    [group] = dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"]
    assert group["ReplicationSubnetGroupIdentifier"] == f"{NAME}-dms"
    # moto answers a fixed placeholder subnet (subnet-12345) for every group, whatever it was
    # given: the module test asserts the subnets.
    name_is = [{"Name": "group-name", "Values": [f"{NAME}-dms"]}]
    [sg] = ec2.describe_security_groups(Filters=name_is)["SecurityGroups"]
    assert sg["IpPermissions"] == [], "nothing reaches the replication instance"
    egress = sorted((p["FromPort"], bool(p["IpRanges"])) for p in sg["IpPermissionsEgress"])
    assert egress == [(443, True), (3306, False), (25060, True)], egress
    # The database's group admits the replication instance's group only.
    name_is = [{"Name": "group-name", "Values": [f"{NAME}-database"]}]
    [db] = ec2.describe_security_groups(Filters=name_is)["SecurityGroups"]
    [rule] = db["IpPermissions"]
    assert (rule["FromPort"], rule["ToPort"], rule["IpRanges"]) == (3306, 3306, [])
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [sg["GroupId"]]
    endpoints = {e["EndpointIdentifier"]: e for e in dms.describe_endpoints()["Endpoints"]}
    assert set(endpoints) == {f"{NAME}-dms-source", f"{NAME}-dms-target"}
    source, target = endpoints[f"{NAME}-dms-source"], endpoints[f"{NAME}-dms-target"]
    # AWS answers SOURCE and TARGET; moto echoes what it was sent.
    assert (source["EndpointType"].lower(), target["EndpointType"].lower()) == ("source", "target")
    assert source["EngineName"] == target["EngineName"] == "mysql"
    assert source["SslMode"] == "require" and target["SslMode"] == "require"
    assert "Password" not in source and "Password" not in target
    for name in ("dms-vpc-role", "dms-cloudwatch-logs-role", f"{NAME}-dms"):
        boundary = iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]
        assert boundary["PermissionsBoundaryArn"].endswith(":policy/acme-prod-boundary"), name
    secrets = {s["Name"] for s in _client(moto, "secretsmanager").list_secrets()["SecretList"]}
    assert "acme/prod/database/dms" in secrets


def test_dms_moto_gaps_are_documented() -> None:
    doc = (ROOT / "docs" / "terraform.md").read_text()
    for address, reason in {**MOTO_DMS_GAPS, **NOT_APPLIED}.items():
        assert f"`{address}`" in doc, f"docs/terraform.md does not list {address} ({reason})"
