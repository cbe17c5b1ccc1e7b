"""Every name platformgen generates for AWS, Kubernetes and MySQL, with the rules each must meet.

This module is the one table of how the templates build names. Each `NameRule` gives a
name's expression (the same one the templates use), the service rules it must meet
(`NameKind`: length, characters, reserved prefixes, where it must be unique), the spec
fields it is built from, and the Terraform resource attribute or Kubernetes object that
carries it. Validation (`generator/spec/name_checks.py`) refuses a spec whose names AWS or
Kubernetes would refuse at plan or apply time, naming the field to change.

The templates build these names themselves (in HCL and Helm), so
`tests/validators/names.py` proves this table against what they render: a mocked
`terraform test` plan of every root of every spec of the matrix, the backend files, and
every Helm chart. A template change that renames something fails there until this table
says the same.

Rules with `rendered=False` are names that the pipelines and DMS migration areas will
create (not rendered yet). They are checked already, so a spec valid today stays valid
when those areas arrive, and they reserve their names (an app called `codebuild` would
take the CodeBuild role's name). Those areas must build their names from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .resolve import default_artifacts_account

Spec = dict[str, Any]
Scope = Literal["project", "environment", "app", "app-environment"]
Root = Literal["env", "bootstrap", "backup", "artifacts", "helm", "database", "none"]
Namespace = Literal["global", "account", "region", "environment", "cluster", "none"]


@dataclass(frozen=True)
class NameKind:
    """What a service accepts for one kind of name, and where a name must be unique."""

    key: str
    label: str
    max_length: int
    pattern: str
    """The whole name must match (characters and shape; lengths are max_length's)."""
    namespace: Namespace
    """global: all of AWS; account: one account; region: one account and region;
    environment: one environment's VPC; cluster: every cluster (Kubernetes); none: never clash."""
    source: str
    forbidden_prefixes: tuple[str, ...] = ()
    forbidden_suffixes: tuple[str, ...] = ()
    no_double_hyphen: bool = False
    appended: int = 0
    """Characters Terraform appends to a name_prefix (a unique suffix)."""
    max_label: int = 0
    """DNS names: the longest label."""
    reserved: tuple[str, ...] = ()
    """Whole names the service keeps for itself."""

    def overflow(self, value: str) -> int:
        """Characters over the limit (0 or less: it fits)."""
        return len(value) - self.allowed

    def problems(self, value: str) -> list[str]:
        """What else the service would refuse in `value`, in words ([] when nothing)."""
        out: list[str] = []
        if not re.fullmatch(self.pattern, value):
            out.append(f"has characters or a shape that {self.label}s may not have")
        if self.no_double_hyphen and "--" in value:
            out.append(f"contains '--' ({self.label}s may not)")
        for prefix in self.forbidden_prefixes:
            if value.startswith(prefix):
                out.append(f"starts with '{prefix}' ({self.label}s may not)")
        for suffix in self.forbidden_suffixes:
            if value.endswith(suffix):
                out.append(f"ends with '{suffix}' ({self.label}s may not)")
        if self.max_label and any(len(label) > self.max_label for label in value.split(".")):
            out.append(f"has a label longer than {self.max_label} characters")
        if value in self.reserved:
            out.append(f"is a name AWS reserves for {self.label}s")
        return out

    @property
    def allowed(self) -> int:
        """The longest value a spec may produce (the service limit less what Terraform adds)."""
        return self.max_length - self.appended


_ALNUM_HYPHEN = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_DNS_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_DNS_NAME = rf"({_DNS_LABEL}\.)+[a-z]{{2,63}}"
_AWS = "https://docs.aws.amazon.com"

S3_BUCKET = NameKind(
    "s3-bucket",
    "S3 bucket name",
    63,
    r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
    "global",
    f"{_AWS}/AmazonS3/latest/userguide/bucketnamingrules.html",
    forbidden_prefixes=("xn--", "sthree-", "amzn-s3-demo-"),
    forbidden_suffixes=("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"),
)
ELB_NAME = NameKind(
    "elb-name",
    "load balancer name",
    32,
    _ALNUM_HYPHEN,
    "region",
    f"{_AWS}/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    forbidden_prefixes=("internal-",),
)
TARGET_GROUP = NameKind(
    "target-group",
    "target group name",
    32,
    _ALNUM_HYPHEN,
    "region",
    f"{_AWS}/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
)
IAM_ROLE = NameKind(
    "iam-role",
    "IAM role name",
    64,
    r"[\w+=,.@-]+",
    "account",
    f"{_AWS}/IAM/latest/APIReference/API_CreateRole.html",
)
IAM_POLICY = NameKind(
    "iam-policy",
    "IAM managed policy name",
    128,
    r"[\w+=,.@-]+",
    "account",
    f"{_AWS}/IAM/latest/APIReference/API_CreatePolicy.html",
)
IAM_INLINE_POLICY = NameKind(
    "iam-inline-policy",
    "IAM inline policy name",
    128,
    r"[\w+=,.@-]+",
    "none",
    f"{_AWS}/IAM/latest/APIReference/API_PutRolePolicy.html",
)
IAM_OIDC_PROVIDER = NameKind(
    "iam-oidc-provider",
    "IAM OIDC provider URL",
    255,
    r"https://[a-z0-9.-]+(/[A-Za-z0-9._~-]+)*",
    "account",
    f"{_AWS}/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html",
)
RDS_INSTANCE = NameKind(
    "rds-instance",
    "RDS DB instance identifier",
    63,
    r"[a-z][a-z0-9-]*[a-z0-9]",
    "region",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
    no_double_hyphen=True,
)
RDS_SNAPSHOT = NameKind(
    "rds-snapshot",
    "RDS DB snapshot identifier",
    255,
    r"[a-z][a-z0-9-]*[a-z0-9]",
    "region",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html",
    no_double_hyphen=True,
)
RDS_SUBNET_GROUP = NameKind(
    "rds-subnet-group",
    "DB subnet group name",
    255,
    r"[a-z0-9][a-z0-9 ._-]*",
    "region",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
    reserved=("default",),
)
RDS_PARAMETER_GROUP = NameKind(
    "rds-parameter-group",
    "DB parameter group name",
    255,
    r"[a-z][a-z0-9-]*",
    "region",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html",
    no_double_hyphen=True,
    appended=26,
)
RDS_EVENT_SUBSCRIPTION = NameKind(
    "rds-event-subscription",
    "RDS event subscription name",
    255,
    r"[A-Za-z][A-Za-z0-9-]*",
    "region",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateEventSubscription.html",
)
MYSQL_DATABASE = NameKind(
    "mysql-database",
    "MySQL database name",
    64,
    r"[A-Za-z][A-Za-z0-9_]*",
    "environment",
    "https://dev.mysql.com/doc/refman/8.4/en/identifier-length.html",
)
RDS_MYSQL_MASTER_USER = NameKind(
    "rds-mysql-master-user",
    "RDS for MySQL master user name",
    16,
    r"[A-Za-z][A-Za-z0-9_]*",
    "environment",
    f"{_AWS}/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
)
MYSQL_USER = NameKind(
    "mysql-user",
    "MySQL user name",
    32,
    r"[A-Za-z0-9_.-]+",
    "environment",
    "https://dev.mysql.com/doc/refman/8.4/en/user-names.html",
)
ECR_REPOSITORY = NameKind(
    "ecr-repository",
    "ECR repository name",
    256,
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
    "region",
    f"{_AWS}/AmazonECR/latest/APIReference/API_CreateRepository.html",
)
EKS_CLUSTER = NameKind(
    "eks-cluster",
    "EKS cluster name",
    100,
    r"[0-9A-Za-z][A-Za-z0-9_-]*",
    "region",
    f"{_AWS}/eks/latest/APIReference/API_CreateCluster.html",
)
EKS_NODEGROUP = NameKind(
    "eks-nodegroup",
    "EKS node group name",
    63,
    r"[0-9A-Za-z][A-Za-z0-9_-]*",
    "environment",
    f"{_AWS}/eks/latest/APIReference/API_CreateNodegroup.html",
)
LAUNCH_TEMPLATE = NameKind(
    "launch-template",
    "EC2 launch template name",
    128,
    r"[A-Za-z0-9().\-/_]+",
    "region",
    f"{_AWS}/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html",
    appended=26,
)
SECURITY_GROUP = NameKind(
    "security-group",
    "security group name",
    255,
    r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+",
    "environment",
    f"{_AWS}/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
    forbidden_prefixes=("sg-",),
)
KMS_ALIAS = NameKind(
    "kms-alias",
    "KMS alias",
    256,
    r"alias/[A-Za-z0-9/_-]+",
    "region",
    f"{_AWS}/kms/latest/APIReference/API_CreateAlias.html",
    forbidden_prefixes=("alias/aws/",),
)
SECRET = NameKind(
    "secret",
    "Secrets Manager secret name",
    512,
    r"[A-Za-z0-9/_+=.@-]+",
    "region",
    f"{_AWS}/secretsmanager/latest/apireference/API_CreateSecret.html",
)
LOG_GROUP = NameKind(
    "log-group",
    "CloudWatch log group name",
    512,
    r"[A-Za-z0-9._/#-]+",
    "region",
    f"{_AWS}/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
)
WAF_LOG_GROUP = NameKind(
    "waf-log-group",
    "WAF log group name",
    512,
    r"aws-waf-logs-[A-Za-z0-9._/#-]+",
    "region",
    f"{_AWS}/waf/latest/developerguide/logging-cw-logs.html",
)
ALARM = NameKind(
    "alarm",
    "CloudWatch alarm name",
    255,
    r"[^\x00-\x1f]+",
    "region",
    f"{_AWS}/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
)
CLOUDTRAIL_TRAIL = NameKind(
    "cloudtrail-trail",
    "CloudTrail trail name",
    128,
    r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]",
    "account",
    f"{_AWS}/awscloudtrail/latest/APIReference/API_CreateTrail.html",
)
CONFIG_NAME = NameKind(
    "config-name",
    "AWS Config recorder or delivery channel name",
    256,
    r"[A-Za-z0-9._-]+",
    "region",
    f"{_AWS}/config/latest/APIReference/API_ConfigurationRecorder.html",
)
SNS_TOPIC = NameKind(
    "sns-topic",
    "SNS topic name",
    256,
    r"[A-Za-z0-9_-]+",
    "region",
    f"{_AWS}/sns/latest/api/API_CreateTopic.html",
)
WAF_ACL = NameKind(
    "waf-acl",
    "WAF web ACL name",
    128,
    r"[\w-]+",
    "region",
    f"{_AWS}/waf/latest/APIReference/API_CreateWebACL.html",
)
WAF_METRIC = NameKind(
    "waf-metric",
    "WAF metric name",
    255,
    r"[\w#:.\-/]+",
    "none",
    f"{_AWS}/waf/latest/APIReference/API_VisibilityConfig.html",
    reserved=("All", "Default_Action"),
)
CLOUDFRONT_FUNCTION = NameKind(
    "cloudfront-function",
    "CloudFront function name",
    64,
    r"[A-Za-z0-9_-]+",
    "account",
    f"{_AWS}/cloudfront/latest/APIReference/API_CreateFunction.html",
)
CLOUDFRONT_OAC = NameKind(
    "cloudfront-oac",
    "CloudFront origin access control name",
    64,
    r"[^\x00-\x1f]+",
    "account",
    f"{_AWS}/cloudfront/latest/APIReference/API_OriginAccessControlConfig.html",
)
CLOUDFRONT_VPC_ORIGIN = NameKind(
    "cloudfront-vpc-origin",
    "CloudFront VPC origin name",
    64,
    r"[A-Za-z0-9_-]+",
    "account",
    # The API states no limit; CloudFormation and the CDK cut generated names at 64.
    f"{_AWS}/cloudfront/latest/APIReference/API_VpcOriginEndpointConfig.html",
)
WAF_RULE = NameKind(
    "waf-rule",
    "WAF rule name",
    128,
    r"[\w-]+",
    "none",
    f"{_AWS}/waf/latest/APIReference/API_Rule.html",
)
ACM_DOMAIN = NameKind(
    "acm-domain",
    "certificate domain name",
    64,
    _DNS_NAME,
    "none",
    f"{_AWS}/acm/latest/APIReference/API_RequestCertificate.html",
    max_label=63,
)
DNS_NAME = NameKind(
    "dns-name",
    "DNS name",
    253,
    _DNS_NAME,
    "none",
    "https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4",
    max_label=63,
)
K8S_NAMESPACE = NameKind(
    "k8s-namespace",
    "Kubernetes namespace name",
    63,
    _DNS_LABEL,
    "cluster",
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names",
)
# Namespaces of apps: Kubernetes keeps the kube- prefix for its own namespaces.
APP_NAMESPACE = dataclasses.replace(
    K8S_NAMESPACE,
    forbidden_prefixes=("kube-",),
    source="https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
)
K8S_OBJECT = NameKind(
    "k8s-object",
    "Kubernetes object name",
    63,
    r"[a-z]([a-z0-9-]*[a-z0-9])?",
    "none",
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names",
)
K8S_LABEL_VALUE = NameKind(
    "k8s-label-value",
    "Kubernetes label value",
    63,
    r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?",
    "none",
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
)
HELM_RELEASE = NameKind(
    "helm-release",
    "Helm release name",
    53,
    _DNS_LABEL,
    "none",
    "https://helm.sh/docs/chart_best_practices/conventions/",
)
BACKUP_VAULT = NameKind(
    "backup-vault",
    "AWS Backup vault name",
    50,
    r"[A-Za-z0-9_-]{2,}",
    "region",
    f"{_AWS}/aws-backup/latest/devguide/API_CreateBackupVault.html",
)
BACKUP_PLAN = NameKind(
    "backup-plan",
    "AWS Backup plan name",
    50,
    r"[A-Za-z0-9_.-]+",
    "region",
    f"{_AWS}/aws-backup/latest/devguide/API_BackupPlanInput.html",
)
BACKUP_SELECTION = NameKind(
    "backup-selection",
    "AWS Backup selection name",
    50,
    r"[A-Za-z0-9_.-]+",
    "none",
    f"{_AWS}/aws-backup/latest/devguide/API_BackupSelection.html",
)
RESTORE_TESTING_PLAN = NameKind(
    "restore-testing-plan",
    "AWS Backup restore testing plan name",
    50,
    r"[A-Za-z0-9_]+",
    "region",
    f"{_AWS}/aws-backup/latest/devguide/API_RestoreTestingPlanForCreate.html",
)
RESTORE_TESTING_SELECTION = NameKind(
    "restore-testing-selection",
    "AWS Backup restore testing selection name",
    50,
    r"[A-Za-z0-9_]+",
    "none",
    f"{_AWS}/aws-backup/latest/devguide/API_RestoreTestingSelectionForCreate.html",
)
CODEBUILD_PROJECT = NameKind(
    "codebuild-project",
    "CodeBuild project name",
    150,
    r"[A-Za-z0-9][A-Za-z0-9_-]+",
    "region",
    f"{_AWS}/codebuild/latest/APIReference/API_CreateProject.html",
)
CODEPIPELINE = NameKind(
    "codepipeline",
    "CodePipeline name",
    100,
    r"[A-Za-z0-9.@_-]+",
    "region",
    f"{_AWS}/codepipeline/latest/APIReference/API_PipelineDeclaration.html",
)
CODECONNECTION = NameKind(
    "codeconnection",
    "CodeConnections connection name",
    32,
    r"[\w-]+",
    "region",
    f"{_AWS}/codeconnections/latest/APIReference/API_CreateConnection.html",
)
DMS_INSTANCE = NameKind(
    "dms-instance",
    "DMS replication instance identifier",
    63,
    r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
    "region",
    f"{_AWS}/dms/latest/APIReference/API_CreateReplicationInstance.html",
    no_double_hyphen=True,
)
DMS_IDENTIFIER = NameKind(
    "dms-identifier",
    "DMS endpoint or task identifier",
    255,
    r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
    "region",
    f"{_AWS}/dms/latest/APIReference/API_CreateEndpoint.html",
    no_double_hyphen=True,
)
DMS_SUBNET_GROUP = NameKind(
    "dms-subnet-group",
    "DMS replication subnet group identifier",
    255,
    r"[A-Za-z0-9 ._-]+",
    "region",
    f"{_AWS}/dms/latest/APIReference/API_CreateReplicationSubnetGroup.html",
    reserved=("default",),
)
DMS_EVENT_SUBSCRIPTION = NameKind(
    "dms-event-subscription",
    "DMS event subscription name",
    255,
    r"[A-Za-z][A-Za-z0-9-]*",
    "region",
    f"{_AWS}/dms/latest/APIReference/API_CreateEventSubscription.html",
)
SQS_QUEUE = NameKind(
    "sqs-queue",
    "SQS queue name",
    80,
    r"[A-Za-z0-9_-]+",
    "region",
    f"{_AWS}/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
)
EVENT_RULE = NameKind(
    "event-rule",
    "EventBridge rule name",
    64,
    r"[.A-Za-z0-9_-]+",
    "region",
    f"{_AWS}/eventbridge/latest/APIReference/API_PutRule.html",
)

# --- what a spec renders (mirrors templates/terraform-env/main.tf and areas.yml) ---------


def container_apps(spec: Spec) -> list[Spec]:
    return [a for a in spec["apps"] if a["hosting"] == "container"]


def public_container_apps(spec: Spec) -> list[Spec]:
    return [a for a in container_apps(spec) if a["public"]]


def public_static_apps(spec: Spec) -> list[Spec]:
    return [a for a in spec["apps"] if a["hosting"] == "static" and a["public"]]


def has_edge(spec: Spec) -> bool:
    return bool(public_container_apps(spec) or public_static_apps(spec))


def has_database(spec: Spec) -> bool:
    return "database" in spec


def target_group_name(full: str) -> str:
    """modules/load-balancer: names over 32 characters keep 25 and end in a hash."""
    if len(full) <= 32:
        return full
    return f"{full[:25]}-{hashlib.sha1(full.encode(), usedforsecurity=False).hexdigest()[:6]}"


def waf_metric(name: str) -> str:
    """modules/waf: metric names are the ACL name without hyphens."""
    return name.replace("-", "")


WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
# modules/load-balancer: behind CloudFront the source address is CloudFront's, so the
# regional ACL has no IP reputation list (and no rate limit).
WAF_REGIONAL_RULE_GROUPS = WAF_MANAGED_RULE_GROUPS[1:]
WAF_RATE_RULE = "rate-limit-api-per-client-ip"
WAF_OTHER_ROUTE = "_other"


def waf_api_routes(spec: Spec) -> list[str]:
    """modules/cdn: the rate limit's routes, one per public container app, and `_other`
    when no app sits at / (CloudFront's default behavior then goes to the load balancer)."""
    containers = [a["name"] for a in public_container_apps(spec)]
    public = public_container_apps(spec) + public_static_apps(spec)
    root = any(a.get("path") == "/" for a in public)
    return sorted(containers + ([WAF_OTHER_ROUTE] if containers and not root else []))


def waf_route_rule(route: str) -> str:
    """modules/waf: a route's rule name (`route-<app>`, or `route_other`)."""
    return "route" + ("" if route.startswith("_") else "-") + route


DATABASE_LOG_EXPORTS = ("error", "slowquery")
DATABASE_ALARMS = ("connections", "cpu", "memory", "storage")
K8S_OBJECT_SUFFIXES = (
    "",
    "-secrets",
    "-database",
    "-migrate",
    "-migrate-database",
    "-test",
    "-test-readyz",
)
HELM_CHART_VERSION = "1.0.0"


# --- rules -----------------------------------------------------------------------------

Variables = dict[str, Any]
Each = Callable[[Spec, Variables], list[Variables]]


def _once(spec: Spec, variables: Variables) -> list[Variables]:
    return [{}]


def _always(spec: Spec, variables: Variables) -> bool:
    return True


# Template variables -> the spec field that sets them, most specific first.
_FIELD_OF = {
    "app": "app",
    "package": "app",
    "secret": "secret",
    "env": "environment",
    "domain": "domain",
    "db": "database.name",
    "project": "project.name",
    "pid": "project.name",
    "organisation": "project.organisation",
    "backup_account": "backup.account",
    "artifacts_account": "artifacts.account",
}


@dataclass(frozen=True)
class NameRule:
    """One generated name: how it is built, from which spec fields, and where it renders."""

    id: str
    kind: NameKind
    scope: Scope
    template: str
    what: str
    root: Root
    resources: tuple[str, ...] = ()
    """Where the name renders: 'resource_type.attribute' in a Terraform plan
    (nested blocks with dots), or 'k8s:<what>' in a Helm chart."""
    when: Callable[[Spec, Variables], bool] = _always
    each: Each = _once
    transform: Callable[[str], str] | None = None
    rendered: bool = True
    feeds: tuple[str, ...] = ()
    """The template's variables when `each` computes them (default: the template's own)."""

    def leading_field(self) -> str | None:
        """The spec field that starts the name (its prefix), if one does."""
        match = re.match(r"{(\w+)}", self.template)
        return _FIELD_OF.get(match[1]) if match else None

    def fields(self) -> tuple[str, ...]:
        """The spec fields the name is built from, most specific first."""
        names = list(self.feeds) or re.findall(r"{(\w+)", self.template)
        out: list[str] = []
        for key, spec_field in _FIELD_OF.items():
            if key in names and spec_field not in out:
                out.append(spec_field)
        return tuple(out)


def _replicas(spec: Spec, v: Variables) -> list[Variables]:
    count = spec["environments"][v["env"]]["database"]["readReplicas"]
    return [{"replica": i} for i in range(1, count + 1)]


def _database_log_groups(spec: Spec, v: Variables) -> list[Variables]:
    primary = f"{v['project']}-{v['env']}"
    instances = [primary] + [f"{primary}-replica-{r['replica']}" for r in _replicas(spec, v)]
    return [{"instance": i, "log": log} for i in instances for log in DATABASE_LOG_EXPORTS]


def _app_secrets(spec: Spec, v: Variables) -> list[Variables]:
    found: dict[str, Variables] = {}
    for app in container_apps(spec):
        for var, ref in app.get("secrets", {}).items():
            found.setdefault(
                ref["secret"], {"secret": ref["secret"], "app": app["name"], "var": var}
            )
    return [found[k] for k in sorted(found)]


def database_users(spec: Spec) -> list[str]:
    """The logical database users (database/users.json; the environment roots'
    database.users): per container app with the database its own user and its migrator,
    the read-only user, and DMS's with a migration."""
    if not has_database(spec):
        return []
    users: list[str] = []
    for app in container_apps(spec):
        if app["database"]:
            users += [app["name"], f"{app['name']}-migrator"]
    users.append("readonly")
    if spec.get("migration"):
        users.append("dms")
    return users


def _waf_rules(acl_suffix: str, spec: Spec) -> list[tuple[str, str]]:
    """modules/waf: (rule name, metric suffix) of each rule of one web ACL."""
    if acl_suffix == "alb":
        return [(g, g) for g in WAF_REGIONAL_RULE_GROUPS]
    routes = waf_api_routes(spec)
    rules = [(waf_route_rule(r), "Route" + waf_route_rule(r)[len("route") :]) for r in routes]
    if routes:
        rules.append((WAF_RATE_RULE, "RateLimit"))
    return rules + [(g, g) for g in WAF_MANAGED_RULE_GROUPS]


def _waf_metrics(acl_suffix: str, *, rules: bool) -> Each:
    """modules/waf: the ACL's metric, or its rules' (the API routes, the rate limit, each
    managed group)."""

    def each(spec: Spec, v: Variables) -> list[Variables]:
        metric = waf_metric(f"{v['project']}-{v['env']}-{acl_suffix}")
        if not rules:
            return [{"metric": metric}]
        return [{"metric": metric + suffix} for _, suffix in _waf_rules(acl_suffix, spec)]

    return each


def _waf_rule_names(acl_suffix: str) -> Each:
    def each(spec: Spec, v: Variables) -> list[Variables]:
        return [{"rule": name} for name, _ in _waf_rules(acl_suffix, spec)]

    return each


def _database_alarms(spec: Spec, v: Variables) -> list[Variables]:
    return [{"metric": m} for m in DATABASE_ALARMS]


# modules/karpenter's EventBridge rules (local.events), one per interruption event.
KARPENTER_EVENTS = (
    "health",
    "spot-interruption",
    "rebalance",
    "state-change",
    "capacity-reservation",
)


def _karpenter_events(spec: Spec, v: Variables) -> list[Variables]:
    return [{"event": e} for e in KARPENTER_EVENTS]


def _k8s_objects(spec: Spec, v: Variables) -> list[Variables]:
    return [{"suffix": s} for s in K8S_OBJECT_SUFFIXES]


# modules/executors: the projects each environment root creates (plan's is not rendered yet).
EXECUTOR_STAGES = ("apply", "deploy")


def _executor_stages(spec: Spec, v: Variables) -> list[Variables]:
    return [{"stage": s} for s in EXECUTOR_STAGES]


def _plan_stage(spec: Spec, v: Variables) -> list[Variables]:
    return [{"stage": "plan"}]


def _ci_role(spec: Spec, v: Variables) -> bool:
    """infra/bootstrap: the deliverer's CI role exists where it can be trusted."""
    pipelines = spec["pipelines"]
    # A spec the schema refuses (no providers) still gets its names checked: no crash.
    deliver = pipelines.get("deliver", next(iter(pipelines.get("providers", [])), None))
    if deliver != "bitbucket":
        return True
    bitbucket = pipelines.get("bitbucket", {})
    ready = bool(bitbucket.get("workspaceUuid")) and bool(bitbucket.get("repositoryUuid"))
    return ready and v["env"] in bitbucket.get("deployEnvironments", {})


def _connections(spec: Spec, v: Variables) -> list[Variables]:
    """modules/pipeline: one connection, to the repository's host (pipelines.repositoryHost)."""
    host = spec["pipelines"].get("repositoryHost")
    return [{"provider": host}] if host else []


def _release_builds(spec: Spec, v: Variables) -> list[Variables]:
    return [{"stage": s} for s in ("apply", "deploy", "bake")]


def _pipeline_builds(spec: Spec, v: Variables) -> list[Variables]:
    """modules/pipeline: the build projects (and so their log groups)."""
    delivers = delivering_provider(spec) == "codepipeline"
    builds = [
        "checks",
        *(["publish", "release-apply", "release-deploy", "release-bake"] if delivers else []),
    ]
    return [{"build": b} for b in builds]


def _pipeline_policies(spec: Spec, v: Variables) -> list[Variables]:
    """modules/pipeline: the inline policies of its roles, and the publish build's on the publisher."""
    delivers = delivering_provider(spec) == "codepipeline"
    policies = [
        "checks-pipeline",
        "checks",
        *(["release-pipeline", "drive", "publish-build"] if delivers else []),
    ]
    return [{"policy": p} for p in policies]


def _dms_parts(spec: Spec, v: Variables) -> list[Variables]:
    return [{"part": p} for p in ("source", "target")]


def _dms_verifies_source(spec: Spec, v: Variables) -> bool:
    return _migration_target(spec, v) and spec["migration"]["source"]["tls"] != "required"


def _dms_cdc(spec: Spec, v: Variables) -> bool:
    return (
        _migration_target(spec, v)
        and spec["migration"]["dms"]["migrationType"] == "full-load-and-cdc"
    )


def _dms_sides(spec: Spec, v: Variables) -> list[Variables]:
    return [{"side": side} for side in ("source", "target")]


def _dms_event_sources(spec: Spec, v: Variables) -> list[Variables]:
    return [{"source": source} for source in ("instance", "task")]


def _dms_account_roles(spec: Spec, v: Variables) -> list[Variables]:
    return [{"role": role} for role in ("dms-vpc-role", "dms-cloudwatch-logs-role")]


def _db(spec: Spec, v: Variables) -> bool:
    return has_database(spec)


def _migration(spec: Spec, v: Variables) -> bool:
    return has_database(spec) and "migration" in spec


def _slots(spec: Spec, v: Variables) -> list[Variables]:
    """dbkit users: the two alternating MySQL users of one logical user."""
    return [{"slot": "a"}, {"slot": "b"}]


def _user_suffixes(spec: Spec, v: Variables) -> list[Variables]:
    return [{"suffix": ""}, {"suffix": "-migrator"}]


def _platform_users(spec: Spec, v: Variables) -> list[Variables]:
    return [
        {"user": "readonly"}
    ]  # the dms user's secret: rule dms-secret (the migration target only)


def _interface_endpoints(spec: Spec, v: Variables) -> bool:
    env = spec["environments"][v["env"]]
    return bool(env.get("interfaceEndpoints", env["tier"] != "development"))


def _platform_baseline(spec: Spec, v: Variables) -> bool:
    return spec.get("accountBaseline", "platform") == "platform"


def _edge(spec: Spec, v: Variables) -> bool:
    return has_edge(spec)


def _alb(spec: Spec, v: Variables) -> bool:
    return bool(public_container_apps(spec))


def _any_static(spec: Spec, v: Variables) -> bool:
    return bool(public_static_apps(spec))


def _datadog(spec: Spec, v: Variables) -> bool:
    return spec.get("observability", {}).get("provider", "cloudwatch") == "datadog"


def _cloudwatch_observability(spec: Spec, v: Variables) -> bool:
    return spec.get("observability", {}).get("provider", "cloudwatch") == "cloudwatch"


def _container_insights_log_groups(spec: Spec, v: Variables) -> list[Variables]:
    return [{"type": t} for t in ("application", "dataplane", "host", "performance", "prometheus")]


def _container(spec: Spec, v: Variables) -> bool:
    return v["app_spec"]["hosting"] == "container"


def _public_container(spec: Spec, v: Variables) -> bool:
    return _container(spec, v) and v["app_spec"]["public"]


def _public_static(spec: Spec, v: Variables) -> bool:
    return v["app_spec"]["hosting"] == "static" and v["app_spec"]["public"]


def _backup_account(spec: Spec, v: Variables) -> bool:
    return has_database(spec) and "account" in spec.get("backup", {})


def _dr_region(spec: Spec, v: Variables) -> bool:
    return has_database(spec) and "region" in spec.get("backup", {})


def _restore_tests(spec: Spec, v: Variables) -> bool:
    """modules/backup: restore tests run in staging and production tiers."""
    return has_database(spec) and spec["environments"][v["env"]]["tier"] != "development"


def _master_secret(spec: Spec, v: Variables) -> bool:
    return has_database(spec) and spec["environments"][v["env"]]["database"]["readReplicas"] > 0


def _provider(name: str) -> Callable[[Spec, Variables], bool]:
    return lambda spec, v: name in spec["pipelines"]["providers"]


def _bitbucket_ready(spec: Spec, v: Variables) -> bool:
    return "bitbucket" in spec["pipelines"]["providers"] and "bitbucket" in spec["pipelines"]


def _codepipeline(spec: Spec, v: Variables) -> bool:
    return "codepipeline" in spec["pipelines"]["providers"]


def delivering_provider(spec: Spec) -> str:
    """pipelines.deliver: the one provider that builds and deploys (default: the first)."""
    pipelines = spec["pipelines"]
    providers = pipelines["providers"]
    return str(pipelines.get("deliver", providers[0] if providers else "github"))


def artifacts_account(spec: Spec) -> str:
    """infra/artifacts' account: artifacts.account, resolved to the last production-tier
    environment's account (templates/_shared/artifacts.jinja reads answers without it)."""
    given = spec.get("artifacts", {}).get("account")
    if given:
        return str(given)
    return default_artifacts_account(spec["environments"], spec.get("promotion", []))


def first_environment(spec: Spec) -> str:
    envs = spec["environments"]
    return ([n for n in spec.get("promotion", []) if n in envs] or list(envs))[0]


def publisher_ready(spec: Spec) -> bool:
    """modules/artifacts: the publisher exists once the delivering provider's trust can be
    written; Bitbucket's needs the workspace and repository UUIDs and the deployment
    environment of the first environment."""
    if delivering_provider(spec) != "bitbucket":
        return True
    bitbucket = spec["pipelines"].get("bitbucket", {})
    return bool(
        bitbucket.get("workspaceUuid")
        and bitbucket.get("repositoryUuid")
        and bitbucket.get("deployEnvironments", {}).get(first_environment(spec))
    )


def _publisher(spec: Spec, v: Variables) -> bool:
    return publisher_ready(spec)


def _artifacts_oidc(provider: str) -> Callable[[Spec, Variables], bool]:
    """modules/artifacts: a dedicated artifacts account gets the delivering provider's OIDC
    provider; an environment's account has its bootstrap's."""

    def when(spec: Spec, v: Variables) -> bool:
        dedicated = artifacts_account(spec) not in {
            e["account"] for e in spec["environments"].values()
        }
        return dedicated and delivering_provider(spec) == provider and publisher_ready(spec)

    return when


def _codepipeline_delivers(spec: Spec, v: Variables) -> bool:
    return delivering_provider(spec) == "codepipeline"


def _migration_target(spec: Spec, v: Variables) -> bool:
    return "migration" in spec and spec["migration"]["targetEnvironment"] == v["env"]


def _database_app(spec: Spec, v: Variables) -> bool:
    return has_database(spec) and v["app_spec"]["database"] and _container(spec, v)


_PN = "{project}-{env}"
_PN_SLASH = "{project}/{env}"

RULES: tuple[NameRule, ...] = (
    # foundation, network
    NameRule("kms-alias", KMS_ALIAS, "environment", "alias/" + _PN, "the environment's KMS key alias", "env", ("aws_kms_alias.name",)),
    NameRule("alarm-topic", SNS_TOPIC, "environment", _PN + "-alarms", "the alarm topic", "env", ("aws_sns_topic.name",)),
    NameRule("flow-logs-log-group", LOG_GROUP, "environment", "/aws/vpc/" + _PN + "/flow-logs", "the VPC flow log group", "env", ("aws_cloudwatch_log_group.name",)),
    NameRule("flow-logs-role", IAM_ROLE, "environment", _PN + "-flow-logs", "the flow logs' IAM role", "env", ("aws_iam_role.name",)),
    NameRule("flow-logs-policy", IAM_INLINE_POLICY, "environment", "write-flow-logs", "the flow logs' policy", "env", ("aws_iam_role_policy.name",)),
    NameRule("vpc-endpoints-security-group", SECURITY_GROUP, "environment", _PN + "-vpc-endpoints", "the interface VPC endpoints' security group", "env", ("aws_security_group.name",), when=_interface_endpoints),
    # cluster
    NameRule("cluster", EKS_CLUSTER, "environment", _PN, "the EKS cluster", "env", ("aws_eks_cluster.name",)),
    NameRule("cluster-log-group", LOG_GROUP, "environment", "/aws/eks/" + _PN + "/cluster", "the cluster's log group", "env", ("aws_cloudwatch_log_group.name",)),
    NameRule("cluster-role", IAM_ROLE, "environment", _PN + "-cluster", "the cluster's IAM role", "env", ("aws_iam_role.name",)),
    NameRule("node-role", IAM_ROLE, "environment", _PN + "-node", "the nodes' IAM role", "env", ("aws_iam_role.name",)),
    NameRule("node-security-group", SECURITY_GROUP, "environment", _PN + "-node", "the nodes' security group", "env", ("aws_security_group.name",)),
    NameRule("database-clients-security-group", SECURITY_GROUP, "environment", _PN + "-database-clients", "the database clients' security group (the only one the database admits)", "env", ("aws_security_group.name",)),
    NameRule("node-launch-template", LAUNCH_TEMPLATE, "environment", _PN + "-node-", "the nodes' launch template (a name prefix)", "env", ("aws_launch_template.name_prefix",)),
    NameRule("node-group", EKS_NODEGROUP, "environment", _PN + "-default", "the EKS node group", "env", ("aws_eks_node_group.node_group_name",)),
    NameRule("container-insights-log-group", LOG_GROUP, "environment", "/aws/containerinsights/" + _PN + "/{type}", "a log group of the CloudWatch Observability add-on", "env", ("aws_cloudwatch_log_group.name",), when=_cloudwatch_observability, each=_container_insights_log_groups),
    NameRule("cloudwatch-agent-role", IAM_ROLE, "environment", _PN + "-cloudwatch-agent", "the CloudWatch agent's IAM role (Pod Identity)", "env", ("aws_iam_role.name",), when=_cloudwatch_observability),
    NameRule("cloudwatch-agent-policy", IAM_INLINE_POLICY, "environment", "container-insights", "the CloudWatch agent's policy", "env", ("aws_iam_role_policy.name",), when=_cloudwatch_observability),
    NameRule("load-balancer-controller-role", IAM_ROLE, "environment", _PN + "-aws-load-balancer-controller", "the load balancer controller's IAM role", "env", ("aws_iam_role.name",)),
    NameRule("load-balancer-controller-policy", IAM_INLINE_POLICY, "environment", "target-group-binding", "the load balancer controller's policy", "env", ("aws_iam_role_policy.name",)),
    NameRule("external-secrets-role", IAM_ROLE, "environment", _PN + "-external-secrets", "the External Secrets Operator's IAM role", "env", ("aws_iam_role.name",)),
    # karpenter: node autoscaling
    # executors: CI only starts them; each runs under its bootstrap role (apply: -platform,
    # deploy: -app-deploy), whose trust names the project (aws:SourceArn).
    NameRule("codebuild-project", CODEBUILD_PROJECT, "environment", _PN + "-{stage}", "an executor's CodeBuild project", "env", ("aws_codebuild_project.name",), each=_executor_stages),
    NameRule("executor-log-group", LOG_GROUP, "environment", "/aws/codebuild/" + _PN + "-{stage}", "an executor's log group", "env", ("aws_cloudwatch_log_group.name",), each=_executor_stages),
    NameRule("executors-security-group", SECURITY_GROUP, "environment", _PN + "-executors", "the executors' security group", "env", ("aws_security_group.name",)),
    NameRule("karpenter-role", IAM_ROLE, "environment", _PN + "-karpenter", "Karpenter's IAM role", "env", ("aws_iam_role.name",)),
    NameRule("karpenter-policy", IAM_INLINE_POLICY, "environment", "karpenter-controller", "Karpenter's policy", "env", ("aws_iam_role_policy.name",)),
    NameRule("karpenter-node-role", IAM_ROLE, "environment", _PN + "-karpenter-node", "the IAM role of the nodes Karpenter starts", "env", ("aws_iam_role.name",)),
    NameRule("karpenter-queue", SQS_QUEUE, "environment", _PN + "-karpenter", "Karpenter's interruption queue", "env", ("aws_sqs_queue.name",)),
    NameRule("karpenter-event-rule", EVENT_RULE, "environment", _PN + "-karpenter-{event}", "an EventBridge rule feeding Karpenter's interruption queue", "env", ("aws_cloudwatch_event_rule.name",), each=_karpenter_events, feeds=("project", "env")),
    # database
    NameRule("database", RDS_INSTANCE, "environment", _PN, "the RDS instance", "env", ("aws_db_instance.identifier",), when=_db),
    NameRule("database-replica", RDS_INSTANCE, "environment", _PN + "-replica-{replica}", "a read replica", "env", ("aws_db_instance.identifier",), when=_db, each=_replicas),
    NameRule("database-final-snapshot", RDS_SNAPSHOT, "environment", _PN + "-final", "the database's final snapshot", "env", ("aws_db_instance.final_snapshot_identifier",), when=_db),
    NameRule("database-subnet-group", RDS_SUBNET_GROUP, "environment", _PN, "the DB subnet group", "env", ("aws_db_subnet_group.name",), when=_db),
    NameRule("database-parameter-group", RDS_PARAMETER_GROUP, "environment", _PN + "-{family}-", "the DB parameter group (a name prefix)", "env", ("aws_db_parameter_group.name_prefix",), when=_db),
    NameRule("database-log-group", LOG_GROUP, "environment", "/aws/rds/instance/{instance}/{log}", "a database log group", "env", ("aws_cloudwatch_log_group.name",), when=_db, each=_database_log_groups, feeds=("project", "env")),
    NameRule("database-monitoring-role", IAM_ROLE, "environment", _PN + "-rds-monitoring", "the enhanced monitoring IAM role", "env", ("aws_iam_role.name",), when=_db),
    NameRule("database-master-secret", SECRET, "environment", _PN + "-database-master", "the master password's secret (with read replicas)", "env", ("aws_secretsmanager_secret.name",), when=_master_secret),
    NameRule("database-security-group", SECURITY_GROUP, "environment", _PN + "-database", "the database's security group", "env", ("aws_security_group.name",), when=_db),
    NameRule("database-alarm", ALARM, "environment", _PN + "-database-{metric}", "a database alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_db, each=_database_alarms),
    NameRule("database-event-subscription", RDS_EVENT_SUBSCRIPTION, "environment", _PN + "-database-events", "the RDS event subscription to the alarm topic", "env", ("aws_db_event_subscription.name",), when=_db),
    NameRule("database-replica-lag-alarm", ALARM, "environment", _PN + "-replica-{replica}-lag", "a replica lag alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_db, each=_replicas),
    # The DMS migration (modules/migration), in the migration's target environment only.
    NameRule("dms-instance", DMS_INSTANCE, "environment", _PN + "-dms", "the DMS replication instance", "env", ("aws_dms_replication_instance.replication_instance_id",), when=_migration_target),
    NameRule("dms-subnet-group", DMS_SUBNET_GROUP, "environment", _PN + "-dms", "the DMS replication subnet group (private subnets)", "env", ("aws_dms_replication_subnet_group.replication_subnet_group_id",), when=_migration_target),
    NameRule("dms-identifier", DMS_IDENTIFIER, "environment", _PN + "-dms-{part}", "a DMS endpoint (source: DigitalOcean, target: RDS)", "env", ("aws_dms_endpoint.endpoint_id",), when=_migration_target, each=_dms_parts),
    NameRule("dms-task", DMS_IDENTIFIER, "environment", _PN + "-dms-task", "the DMS replication task (also its ARN's resource identifier, the CDC alarms' dimension)", "env", ("aws_dms_replication_task.replication_task_id", "aws_dms_replication_task.resource_identifier"), when=_migration_target),
    NameRule("dms-certificate", DMS_IDENTIFIER, "environment", _PN + "-dms-source-ca", "DigitalOcean's CA imported into DMS (tls verify-full or verify-ca)", "env", ("aws_dms_certificate.certificate_id",), when=_dms_verifies_source),
    NameRule("dms-role", IAM_ROLE, "environment", _PN + "-dms", "the role DMS reads the endpoints' secrets as", "env", ("aws_iam_role.name",), when=_migration_target),
    NameRule("dms-policy", IAM_INLINE_POLICY, "environment", "read-the-endpoint-secrets", "the DMS role's policy", "env", ("aws_iam_role_policy.name",), when=_migration_target),
    NameRule("dms-account-role", IAM_ROLE, "environment", "{role}", "an account role DMS requires by exact name", "env", ("aws_iam_role.name",), when=_migration_target, each=_dms_account_roles),
    NameRule("dms-security-group", SECURITY_GROUP, "environment", _PN + "-dms", "the replication instance's security group", "env", ("aws_security_group.name",), when=_migration_target),
    NameRule("dms-secret", SECRET, "environment", "{project}/{env}/database/dms", "the dms database user's secret (the target endpoint's credentials)", "env", ("aws_secretsmanager_secret.name",), when=_migration_target),
    NameRule("dms-cdc-latency-alarm", ALARM, "environment", _PN + "-dms-cdc-latency-{side}", "a DMS CDC latency alarm (CDCLatencySource, CDCLatencyTarget)", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_dms_cdc, each=_dms_sides),
    NameRule("dms-event-subscription", DMS_EVENT_SUBSCRIPTION, "environment", _PN + "-dms-{source}-events", "a DMS event subscription to the alarm topic", "env", ("aws_dms_event_subscription.name",), when=_migration_target, each=_dms_event_sources),
    NameRule("database-schema", MYSQL_DATABASE, "environment", "{db}", "the application schema", "env", ("aws_db_instance.db_name",), when=_db),
    NameRule("database-master-user", RDS_MYSQL_MASTER_USER, "environment", "platform_admin", "the master user", "env", ("aws_db_instance.username",), when=_db),
    # database/users.json (dbkit users): each logical user is two MySQL users, _a and _b (rotation)
    NameRule("mysql-app-user", MYSQL_USER, "app", "app_{package}_{slot}", "an app's MySQL users (DML on its schema; slot a or b: they alternate at rotation)", "database", ("users.json:mysqlUsers",), when=_database_app, each=_slots),
    NameRule("mysql-migrator-user", MYSQL_USER, "app", "mig_{package}_{slot}", "an app's migration hook's MySQL users (DDL)", "database", ("users.json:mysqlUsers",), when=_database_app, each=_slots),
    NameRule("mysql-readonly-user", MYSQL_USER, "project", "platform_readonly_{slot}", "the read-only MySQL users", "database", ("users.json:mysqlUsers",), when=_db, each=_slots),
    NameRule("mysql-dms-user", MYSQL_USER, "project", "platform_dms_{slot}", "DMS's MySQL users on the target", "database", ("users.json:mysqlUsers",), when=_migration, each=_slots),
    # backups: the environment's own vault, a DR region's, the plan and the restore tests
    NameRule("backup-vault", BACKUP_VAULT, "environment", _PN + "-backups", "the environment's backup vault", "env", ("aws_backup_vault.name",), when=_db),
    NameRule("backup-vault-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-backups", "the backup vault key's alias", "env", ("aws_kms_alias.name",), when=_db),
    NameRule("dr-vault", BACKUP_VAULT, "environment", _PN + "-dr-copies", "the vault of copies in the DR region", "env", ("aws_backup_vault.name",), when=_dr_region),
    NameRule("dr-vault-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-dr-copies", "the DR vault key's alias", "env", ("aws_kms_alias.name",), when=_dr_region),
    NameRule("backup-plan", BACKUP_PLAN, "environment", _PN + "-database", "the backup plan", "env", ("aws_backup_plan.name",), when=_db),
    NameRule("backup-selection", BACKUP_SELECTION, "environment", "database", "the backup plan's selection", "env", ("aws_backup_selection.name",), when=_db),
    NameRule("backup-role", IAM_ROLE, "environment", _PN + "-aws-backup", "AWS Backup's IAM role", "env", ("aws_iam_role.name",), when=_db),
    NameRule("restore-testing-plan", RESTORE_TESTING_PLAN, "environment", "{pid}_{env}_restore_tests", "the restore testing plan", "env", ("aws_backup_restore_testing_plan.name",), when=_restore_tests),
    NameRule("restore-testing-selection", RESTORE_TESTING_SELECTION, "environment", "database", "the restore testing selection", "env", ("aws_backup_restore_testing_selection.name",), when=_restore_tests),
    # edge
    NameRule("zone", DNS_NAME, "environment", "{domain}", "the environment's DNS zone", "env", ("aws_route53_zone.name", "aws_route53_record.name"), when=_edge),
    NameRule("viewer-certificate", ACM_DOMAIN, "environment", "{domain}", "CloudFront's certificate", "env", ("aws_acm_certificate.domain_name",), when=_edge),
    NameRule("origin-certificate", ACM_DOMAIN, "environment", "origin.{domain}", "the load balancer's certificate", "env", ("aws_acm_certificate.domain_name", "aws_route53_record.name"), when=_alb),
    NameRule("load-balancer", ELB_NAME, "environment", _PN, "the load balancer", "env", ("aws_lb.name",), when=_alb),
    NameRule("target-group", TARGET_GROUP, "app-environment", _PN + "-{app}", "a public app's target group", "env", ("aws_lb_target_group.name",), when=_public_container, transform=target_group_name),
    NameRule("load-balancer-security-group", SECURITY_GROUP, "environment", _PN + "-alb", "the load balancer's security group", "env", ("aws_security_group.name",), when=_alb),
    NameRule("load-balancer-logs-bucket", S3_BUCKET, "environment", _PN + "-alb-logs-{account}", "the load balancer's log bucket", "env", ("aws_s3_bucket.bucket",), when=_alb),
    NameRule("load-balancer-5xx-alarm", ALARM, "environment", _PN + "-alb-5xx", "the load balancer's 5xx alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_alb),
    NameRule("target-health-alarm", ALARM, "app-environment", _PN + "-{app}-no-healthy-targets", "a public app's health alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_public_container),
    NameRule("target-5xx-rate-alarm", ALARM, "app-environment", _PN + "-{app}-5xx-rate", "a public app's 5xx rate (SLO) alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_public_container),
    NameRule("target-p99-alarm", ALARM, "app-environment", _PN + "-{app}-p99-latency", "a public app's p99 response time (SLO) alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_public_container),
    NameRule("load-balancer-waf", WAF_ACL, "environment", _PN + "-alb", "the load balancer's web ACL", "env", ("aws_wafv2_web_acl.name",), when=_alb),
    NameRule("load-balancer-waf-metric", WAF_METRIC, "environment", "{metric}", "the load balancer web ACL's metric", "env", ("aws_wafv2_web_acl.visibility_config.metric_name",), when=_alb, each=_waf_metrics("alb", rules=False), feeds=("project", "env")),
    NameRule("load-balancer-waf-rule-metric", WAF_METRIC, "environment", "{metric}", "a load balancer web ACL rule's metric", "env", ("aws_wafv2_web_acl.rule.visibility_config.metric_name",), when=_alb, each=_waf_metrics("alb", rules=True), feeds=("project", "env")),
    NameRule("load-balancer-waf-rule", WAF_RULE, "environment", "{rule}", "a load balancer web ACL rule", "env", ("aws_wafv2_web_acl.rule.name",), when=_alb, each=_waf_rule_names("alb")),
    NameRule("cloudfront-vpc-origin-security-group", SECURITY_GROUP, "environment", "CloudFront-VPCOrigins-Service-SG", "the group CloudFront creates with a VPC origin (looked up by name, never created)", "env", ("aws_security_group.name",), when=_alb),
    NameRule("load-balancer-vpc-origin", CLOUDFRONT_VPC_ORIGIN, "environment", _PN + "-alb", "CloudFront's VPC origin for the load balancer", "env", ("aws_cloudfront_vpc_origin.vpc_origin_endpoint_config.name",), when=_alb),
    NameRule("load-balancer-waf-alarm", ALARM, "environment", _PN + "-alb-waf-blocked", "the load balancer web ACL's blocked share alarm", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_alb),
    NameRule("load-balancer-waf-log-group", WAF_LOG_GROUP, "environment", "aws-waf-logs-" + _PN + "-alb", "the load balancer's WAF log group", "env", ("aws_cloudwatch_log_group.name",), when=_alb),
    NameRule("cdn-logs-bucket", S3_BUCKET, "environment", _PN + "-cdn-logs-{account}", "CloudFront's log bucket", "env", ("aws_s3_bucket.bucket",), when=_edge),
    NameRule("static-bucket", S3_BUCKET, "app-environment", _PN + "-{app}-{account}", "a static app's bucket", "env", ("aws_s3_bucket.bucket",), when=_public_static),
    NameRule("static-origin-access", CLOUDFRONT_OAC, "environment", _PN + "-static", "the static apps' origin access control", "env", ("aws_cloudfront_origin_access_control.name",), when=_any_static),
    NameRule("static-spa-function", CLOUDFRONT_FUNCTION, "app-environment", _PN + "-{app}-spa", "a static app's CloudFront function", "env", ("aws_cloudfront_function.name",), when=_public_static),
    NameRule("cdn-waf", WAF_ACL, "environment", _PN + "-cdn", "CloudFront's web ACL", "env", ("aws_wafv2_web_acl.name",), when=_edge),
    NameRule("cdn-waf-metric", WAF_METRIC, "environment", "{metric}", "CloudFront web ACL's metric", "env", ("aws_wafv2_web_acl.visibility_config.metric_name",), when=_edge, each=_waf_metrics("cdn", rules=False), feeds=("project", "env")),
    NameRule("cdn-waf-rule-metric", WAF_METRIC, "environment", "{metric}", "a CloudFront web ACL rule's metric", "env", ("aws_wafv2_web_acl.rule.visibility_config.metric_name",), when=_edge, each=_waf_metrics("cdn", rules=True), feeds=("project", "env")),
    NameRule("cdn-waf-rule", WAF_RULE, "environment", "{rule}", "a CloudFront web ACL rule (an API route, the rate limit, a managed group)", "env", ("aws_wafv2_web_acl.rule.name",), when=_edge, each=_waf_rule_names("cdn")),
    NameRule("cdn-waf-alarm", ALARM, "environment", _PN + "-cdn-waf-blocked", "CloudFront web ACL's blocked share alarm (us-east-1)", "env", ("aws_cloudwatch_metric_alarm.alarm_name",), when=_edge),
    NameRule("cdn-alarm-topic", SNS_TOPIC, "environment", _PN + "-cdn-alarms", "the us-east-1 alarm topic of CloudFront's WAF alarm", "env", ("aws_sns_topic.name",), when=_edge),
    NameRule("cdn-waf-log-group", WAF_LOG_GROUP, "environment", "aws-waf-logs-" + _PN + "-cdn", "CloudFront's WAF log group", "env", ("aws_cloudwatch_log_group.name",), when=_edge),
    # workloads: per container app
    NameRule("app-role", IAM_ROLE, "app-environment", _PN + "-{app}", "an app's IAM role", "env", ("aws_iam_role.name",), when=_container),
    NameRule("app-policy", IAM_INLINE_POLICY, "app-environment", "read-own-secrets", "an app's policy", "env", ("aws_iam_role_policy.name",), when=_container),
    NameRule("datadog-api-key-role", IAM_ROLE, "environment", _PN + "-datadog-api-key", "the role the External Secrets Operator assumes to read the Datadog API key", "env", ("aws_iam_role.name",), when=_datadog),
    NameRule("datadog-api-key-policy", IAM_INLINE_POLICY, "environment", "read-datadog-api-key", "the Datadog API key role's policy", "env", ("aws_iam_role_policy.name",), when=_datadog),
    NameRule("platform-namespace-datadog", K8S_NAMESPACE, "project", "datadog", "the Datadog agent's namespace (observability.provider datadog)", "helm", ("k8s:platform-namespace",), when=_datadog),
    NameRule("external-secrets-policy", IAM_INLINE_POLICY, "environment", "assume-app-roles", "the External Secrets Operator's policy", "env", ("aws_iam_role_policy.name",)),
    NameRule("app-secret", SECRET, "environment", "{project}/{env}/{secret}", "an app's secret", "env", ("aws_secretsmanager_secret.name",), each=_app_secrets),
    NameRule("database-app-user-secret", SECRET, "app-environment", _PN_SLASH + "/database/{app}{suffix}", "an app's (or its migrator's) database credentials, written by dbkit users (Terraform creates it empty)", "env", ("aws_secretsmanager_secret.name",), when=_database_app, each=_user_suffixes),
    NameRule("database-platform-user-secret", SECRET, "environment", _PN_SLASH + "/database/{user}", "the readonly (and dms) user's database credentials, written by dbkit users (Terraform creates it empty)", "env", ("aws_secretsmanager_secret.name",), when=_db, each=_platform_users),
    NameRule("app-namespace", APP_NAMESPACE, "app", "{app}", "an app's namespace", "helm", ("aws_eks_pod_identity_association.namespace", "k8s:namespace"), when=_container),
    NameRule("app-service-account", K8S_OBJECT, "app", "{app}", "an app's service account", "helm", ("aws_eks_pod_identity_association.service_account", "k8s:object"), when=_container),
    NameRule("platform-namespace-kube-system", K8S_NAMESPACE, "project", "kube-system", "the AWS Load Balancer Controller's namespace", "helm", ("aws_eks_pod_identity_association.namespace", "k8s:platform-namespace")),
    NameRule("platform-namespace-external-secrets", K8S_NAMESPACE, "project", "external-secrets", "the External Secrets Operator's namespace", "helm", ("aws_eks_pod_identity_association.namespace", "k8s:platform-namespace")),
    NameRule("platform-service-account-load-balancer-controller", K8S_OBJECT, "project", "aws-load-balancer-controller", "the load balancer controller's service account", "helm", ("aws_eks_pod_identity_association.service_account",)),
    NameRule("platform-service-account-external-secrets", K8S_OBJECT, "project", "external-secrets", "the External Secrets Operator's service account", "helm", ("aws_eks_pod_identity_association.service_account",)),
    NameRule("platform-namespace-karpenter", K8S_NAMESPACE, "project", "karpenter", "Karpenter's namespace", "helm", ("aws_eks_pod_identity_association.namespace", "k8s:platform-namespace")),
    NameRule("platform-service-account-karpenter", K8S_OBJECT, "project", "karpenter", "Karpenter's service account", "helm", ("aws_eks_pod_identity_association.service_account",)),
    # Kubernetes' own namespaces: no template installs them, every cluster has them.
    NameRule("kubernetes-namespace-default", K8S_NAMESPACE, "project", "default", "a namespace of every cluster", "none"),
    NameRule("kubernetes-namespace-kube-public", K8S_NAMESPACE, "project", "kube-public", "a namespace of every cluster", "none"),
    NameRule("kubernetes-namespace-kube-node-lease", K8S_NAMESPACE, "project", "kube-node-lease", "a namespace of every cluster", "none"),
    # helm: per container app
    NameRule("helm-release", HELM_RELEASE, "app", "{app}", "an app's Helm release", "helm", ("k8s:release",), when=_container),
    NameRule("k8s-object", K8S_OBJECT, "app", "{app}{suffix}", "an app's Kubernetes objects", "helm", ("k8s:object",), when=_container, each=_k8s_objects),
    NameRule("label-part-of", K8S_LABEL_VALUE, "app", "{project}", "the part-of label", "helm", ("k8s:label",), when=_container),
    NameRule("label-instance", K8S_LABEL_VALUE, "app", "{app}", "the name and instance labels", "helm", ("k8s:label",), when=_container),
    NameRule("label-chart", K8S_LABEL_VALUE, "app", "{app}-" + HELM_CHART_VERSION, "the helm.sh/chart label", "helm", ("k8s:label",), when=_container),
    # bootstrap: per environment
    NameRule("state-bucket", S3_BUCKET, "environment", _PN + "-tfstate-{account}", "the Terraform state bucket", "bootstrap", ("aws_s3_bucket.bucket", "backend:bucket")),
    NameRule("state-logs-bucket", S3_BUCKET, "environment", _PN + "-tfstate-logs-{account}", "the state bucket's log bucket", "bootstrap", ("aws_s3_bucket.bucket",)),
    NameRule("state-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-tfstate", "the state key's alias", "bootstrap", ("aws_kms_alias.name",)),
    # bootstrap: the account's roles and their boundary (infra/docs/adr/0003-roles-and-permissions.md)
    NameRule("plan-role", IAM_ROLE, "environment", _PN + "-plan", "the plan role (plans and drift checks, no data)", "bootstrap", ("aws_iam_role.name",)),
    NameRule("plan-policy", IAM_INLINE_POLICY, "environment", "terraform-plan", "the plan role's policy", "bootstrap", ("aws_iam_role_policy.name",)),
    NameRule("platform-role", IAM_ROLE, "environment", _PN + "-platform", "the platform executor (Terraform apply, cluster add-ons)", "bootstrap", ("aws_iam_role.name",)),
    NameRule("platform-policy", IAM_INLINE_POLICY, "environment", "platform-executor", "the platform executor's policy", "bootstrap", ("aws_iam_role_policy.name",)),
    NameRule("app-deploy-role", IAM_ROLE, "environment", _PN + "-app-deploy", "the app-deploy executor (make deploy)", "bootstrap", ("aws_iam_role.name",)),
    NameRule("app-deploy-policy", IAM_INLINE_POLICY, "environment", "app-deploy", "the app-deploy executor's policy", "bootstrap", ("aws_iam_role_policy.name",)),
    NameRule("ci-role", IAM_ROLE, "environment", _PN + "-ci", "the delivering CI's role (starts the executors, reads their logs)", "bootstrap", ("aws_iam_role.name",), when=_ci_role),
    NameRule("ci-policy", IAM_INLINE_POLICY, "environment", "start-executors", "the CI role's policy", "bootstrap", ("aws_iam_role_policy.name",), when=_ci_role),
    NameRule("permissions-boundary", IAM_POLICY, "environment", _PN + "-boundary", "the permissions boundary of every role", "bootstrap", ("aws_iam_policy.name",)),
    NameRule("github-oidc-provider", IAM_OIDC_PROVIDER, "environment", "https://token.actions.githubusercontent.com", "the GitHub OIDC provider", "bootstrap", ("aws_iam_openid_connect_provider.url",), when=_provider("github")),
    NameRule("bitbucket-oidc-provider", IAM_OIDC_PROVIDER, "environment", "https://api.bitbucket.org/2.0/workspaces/{organisation}/pipelines-config/identity/oidc", "the Bitbucket OIDC provider", "bootstrap", ("aws_iam_openid_connect_provider.url",), when=_bitbucket_ready),
    # bootstrap: the account baseline (accountBaseline: platform)
    NameRule("trail", CLOUDTRAIL_TRAIL, "environment", _PN, "the account's CloudTrail trail", "bootstrap", ("aws_cloudtrail.name",), when=_platform_baseline),
    NameRule("trail-bucket", S3_BUCKET, "environment", _PN + "-trail-{account}", "the trail's and AWS Config's log bucket", "bootstrap", ("aws_s3_bucket.bucket",), when=_platform_baseline),
    NameRule("trail-logs-bucket", S3_BUCKET, "environment", _PN + "-trail-logs-{account}", "the trail bucket's access-log bucket", "bootstrap", ("aws_s3_bucket.bucket",), when=_platform_baseline),
    NameRule("trail-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-trail", "the trail key's alias", "bootstrap", ("aws_kms_alias.name",), when=_platform_baseline),
    NameRule("trail-log-group", LOG_GROUP, "environment", "/aws/cloudtrail/" + _PN, "the trail's log group", "bootstrap", ("aws_cloudwatch_log_group.name",), when=_platform_baseline),
    NameRule("trail-role", IAM_ROLE, "environment", _PN + "-cloudtrail", "the role CloudTrail writes its log group with", "bootstrap", ("aws_iam_role.name",), when=_platform_baseline),
    NameRule("trail-logs-policy", IAM_INLINE_POLICY, "environment", "write-trail-logs", "the trail role's policy", "bootstrap", ("aws_iam_role_policy.name",), when=_platform_baseline),
    NameRule("config-role", IAM_ROLE, "environment", _PN + "-config", "AWS Config's role", "bootstrap", ("aws_iam_role.name",), when=_platform_baseline),
    NameRule("config-delivery-policy", IAM_INLINE_POLICY, "environment", "deliver-config", "AWS Config's delivery policy", "bootstrap", ("aws_iam_role_policy.name",), when=_platform_baseline),
    NameRule("config-recorder", CONFIG_NAME, "environment", _PN, "the AWS Config recorder and its delivery channel", "bootstrap", ("aws_config_configuration_recorder.name", "aws_config_configuration_recorder_status.name", "aws_config_delivery_channel.name"), when=_platform_baseline),
    # backup account (infra/backup): per environment, in the environment's region
    NameRule("backup-account-vault", BACKUP_VAULT, "environment", _PN + "-copies", "the backup account's vault of an environment", "backup", ("aws_backup_vault.name",), when=_backup_account),
    NameRule("backup-account-vault-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-copies", "that vault key's alias", "backup", ("aws_kms_alias.name",), when=_backup_account),
    NameRule("backup-account-state-bucket", S3_BUCKET, "environment", _PN + "-copies-state-{backup_account}", "the state bucket of infra/backup", "backup", ("aws_s3_bucket.bucket", "backend:bucket"), when=_backup_account),
    NameRule("backup-account-state-logs-bucket", S3_BUCKET, "environment", _PN + "-copies-logs-{backup_account}", "that state bucket's log bucket", "backup", ("aws_s3_bucket.bucket",), when=_backup_account),
    NameRule("backup-account-state-key-alias", KMS_ALIAS, "environment", "alias/" + _PN + "-copies-state", "that state key's alias", "backup", ("aws_kms_alias.name",), when=_backup_account),
    # artifacts account (infra/artifacts): once per project, in the project's region
    NameRule("image-repository", ECR_REPOSITORY, "app", "{project}/{app}", "an app's image repository (every environment pulls from it)", "artifacts", ("aws_ecr_repository.name",), when=_container),
    NameRule("pipeline-artifacts-bucket", S3_BUCKET, "project", "{project}-artifacts-{artifacts_account}", "the artifact bucket (source bundles, release manifests, CodePipeline's artifacts)", "artifacts", ("aws_s3_bucket.bucket",)),
    NameRule("artifacts-logs-bucket", S3_BUCKET, "project", "{project}-artifacts-logs-{artifacts_account}", "the access-log bucket of the artifact and state buckets", "artifacts", ("aws_s3_bucket.bucket",)),
    NameRule("artifacts-key-alias", KMS_ALIAS, "project", "alias/{project}-artifacts", "the key of the repositories and the artifact bucket", "artifacts", ("aws_kms_alias.name",)),
    NameRule("image-signing-key-alias", KMS_ALIAS, "project", "alias/{project}-image-signing", "the cosign signing key's alias", "artifacts", ("aws_kms_alias.name",)),
    NameRule("publisher-role", IAM_ROLE, "project", "{project}-publish", "the publisher (the delivering CI system; CodePipeline's publish build when it delivers)", "artifacts", ("aws_iam_role.name",), when=_publisher),
    NameRule("publisher-policy", IAM_INLINE_POLICY, "project", "publish", "the publisher's policy", "artifacts", ("aws_iam_role_policy.name",), when=_publisher),
    NameRule("artifacts-github-oidc-provider", IAM_OIDC_PROVIDER, "project", "https://token.actions.githubusercontent.com", "the GitHub OIDC provider of a dedicated artifacts account", "artifacts", ("aws_iam_openid_connect_provider.url",), when=_artifacts_oidc("github")),
    NameRule("artifacts-bitbucket-oidc-provider", IAM_OIDC_PROVIDER, "project", "https://api.bitbucket.org/2.0/workspaces/{organisation}/pipelines-config/identity/oidc", "the Bitbucket OIDC provider of a dedicated artifacts account", "artifacts", ("aws_iam_openid_connect_provider.url",), when=_artifacts_oidc("bitbucket")),
    NameRule("artifacts-state-bucket", S3_BUCKET, "project", "{project}-artifacts-state-{artifacts_account}", "the state bucket of infra/artifacts", "artifacts", ("aws_s3_bucket.bucket", "backend:bucket")),
    NameRule("artifacts-boundary", IAM_POLICY, "project", "{project}-artifacts-boundary", "the permissions boundary of the artifacts account's roles", "artifacts", ("aws_iam_policy.name",)),
    NameRule("artifacts-state-key-alias", KMS_ALIAS, "project", "alias/{project}-artifacts-state", "that state key's alias", "artifacts", ("aws_kms_alias.name",)),
    # AWS CodePipeline (modules/pipeline, in infra/artifacts): pull-request checks always,
    # the release pipeline and its driver where CodePipeline delivers.
    NameRule("codepipeline", CODEPIPELINE, "project", "{project}-release", "the release pipeline (CodePipeline delivers)", "artifacts", ("aws_codepipeline.name",), when=_codepipeline_delivers),
    NameRule("checks-pipeline", CODEPIPELINE, "project", "{project}-checks", "the pull-request pipeline", "artifacts", ("aws_codepipeline.name",), when=_codepipeline),
    NameRule("publish-project", CODEBUILD_PROJECT, "project", "{project}-publish", "the release pipeline's publish build (make build publish bundle, as the publisher)", "artifacts", ("aws_codebuild_project.name",), when=_codepipeline_delivers),
    NameRule("checks-project", CODEBUILD_PROJECT, "project", "{project}-checks", "the pull-request build (make lint test build platform-check)", "artifacts", ("aws_codebuild_project.name",), when=_codepipeline),
    NameRule("release-project", CODEBUILD_PROJECT, "project", "{project}-release-{stage}", "the driver's builds (make execute STAGE=apply|deploy, make bake)", "artifacts", ("aws_codebuild_project.name",), when=_codepipeline_delivers, each=_release_builds),
    NameRule("pipeline-build-log-group", LOG_GROUP, "project", "/aws/codebuild/{project}-{build}", "a pipeline build's log group", "artifacts", ("aws_cloudwatch_log_group.name",), when=_codepipeline, each=_pipeline_builds),
    NameRule("pipeline-logs-key-alias", KMS_ALIAS, "project", "alias/{project}-pipeline-logs", "the key of the pipeline builds' logs", "artifacts", ("aws_kms_alias.name",), when=_codepipeline),
    NameRule("checks-pipeline-role", IAM_ROLE, "project", "{project}-checks-pipeline", "the pull-request pipeline's role", "artifacts", ("aws_iam_role.name",), when=_codepipeline),
    NameRule("checks-build-role", IAM_ROLE, "project", "{project}-checks-build", "the pull-request build's role (reaches no environment)", "artifacts", ("aws_iam_role.name",), when=_codepipeline),
    NameRule("release-pipeline-role", IAM_ROLE, "project", "{project}-release-pipeline", "the release pipeline's role", "artifacts", ("aws_iam_role.name",), when=_codepipeline_delivers),
    NameRule("driver-role", IAM_ROLE, "project", "{project}-drive", "the driver: assumes each <project>-<env>-ci role (make execute, make bake)", "artifacts", ("aws_iam_role.name",), when=_codepipeline_delivers),
    NameRule("pipeline-policy", IAM_INLINE_POLICY, "project", "{policy}", "the inline policies of the pipeline roles", "artifacts", ("aws_iam_role_policy.name",), when=_codepipeline, each=_pipeline_policies),
    NameRule("codeconnection", CODECONNECTION, "project", "{project}-{provider}", "the CodeConnections connection to the repository's host (PENDING until completed)", "artifacts", ("aws_codestarconnections_connection.name",), when=_codepipeline, each=_connections),
    # --- not rendered yet: the plan project and the DMS migration area build these names --
    # The plan project: its role <p>-<e>-plan already trusts it (aws:SourceArn).
    NameRule("codebuild-plan-project", CODEBUILD_PROJECT, "environment", _PN + "-{stage}", "the plan role's CodeBuild project", "none", each=_plan_stage, rendered=False),
    NameRule("platform-namespace-amazon-cloudwatch", K8S_NAMESPACE, "project", "amazon-cloudwatch", "the CloudWatch Observability add-on's namespace", "none", rendered=False),
)  # fmt: skip


@dataclass(frozen=True)
class GeneratedName:
    """One name a spec produces."""

    rule: NameRule
    value: str
    env: str | None = None
    app: str | None = None
    location: tuple[str, ...] = ()
    """Where it must be unique: see NameKind.namespace ('*': every environment)."""
    extra: tuple[tuple[str, Any], ...] = field(default=())

    def variable(self, name: str) -> Any:
        return dict(self.extra).get(name)


def _family(version: str) -> str:
    """modules/database: the parameter group family, with '-' for '.' (mysql8-0)."""
    return "mysql" + "-".join(version.split(".")[:2])


def _instances(spec: Spec, rule: NameRule) -> Iterator[Variables]:
    base: Variables = {
        "project": spec["project"]["name"],
        "organisation": spec["project"]["organisation"],
    }
    base["pid"] = spec["project"]["name"].replace("-", "_")
    if has_database(spec):
        base["db"] = spec["database"]["name"]
        base["family"] = _family(spec["database"]["version"])
    backup = spec.get("backup", {})
    if "account" in backup:
        base["backup_account"] = backup["account"]
    base["artifacts_account"] = artifacts_account(spec)
    per_env = rule.scope in ("environment", "app-environment")
    per_app = rule.scope in ("app", "app-environment")
    envs: list[str | None] = list(spec["environments"]) if per_env else [None]
    apps: list[Spec | None] = list(spec["apps"]) if per_app else [None]
    for env in envs:
        for app in apps:
            v = dict(base)
            if env is not None:
                e = spec["environments"][env]
                v.update(env=env, account=e["account"], region=e["region"], domain=e["domain"])
            if app is not None:
                v.update(app=app["name"], package=app["name"].replace("-", "_"), app_spec=app)
            yield v


def _location(spec: Spec, rule: NameRule, env: str | None) -> tuple[str, ...]:
    namespace = rule.kind.namespace
    if namespace in ("global", "cluster", "none"):
        return (namespace,)
    if rule.root == "artifacts":
        # infra/artifacts: the artifacts account, in the project's region.
        account = artifacts_account(spec)
        return (account,) if namespace == "account" else (account, spec["project"]["region"])
    if env is None:
        return ("*",)
    e = spec["environments"][env]
    if rule.id.startswith("backup-account-"):
        # infra/backup: the backup account, in the environment's region.
        account = spec["backup"]["account"]
        return (account,) if namespace == "account" else (account, e["region"])
    if namespace == "account":
        return (e["account"],)
    if namespace == "region":
        # CloudFront's web ACL and its log group live in us-east-1; the DR vault in the DR region.
        if rule.id.startswith("cdn-waf"):
            return (e["account"], "us-east-1")
        if rule.id.startswith("dr-"):
            return (e["account"], spec["backup"]["region"])
        return (e["account"], e["region"])
    return (env,)


def generated_names(spec: Spec, *, rendered_only: bool = False) -> list[GeneratedName]:
    """Every name the resolved spec produces, in table order."""
    out: list[GeneratedName] = []
    for rule in RULES:
        if rendered_only and not rule.rendered:
            continue
        for base in _instances(spec, rule):
            if not rule.when(spec, base):
                continue
            for more in rule.each(spec, base):
                v = {**base, **more}
                value = rule.template.format(**v)
                if rule.transform is not None:
                    value = rule.transform(value)
                extra = {k: v[k] for k in ("secret", "var", "replica") if k in v}
                out.append(
                    GeneratedName(
                        rule=rule,
                        value=value,
                        env=v.get("env"),
                        app=v.get("app"),
                        location=_location(spec, rule, v.get("env")),
                        extra=tuple(sorted(extra.items())),
                    )
                )
    return out


def collisions(names: list[GeneratedName]) -> list[tuple[GeneratedName, GeneratedName]]:
    """Pairs of names that would be the same name in one namespace of their service."""
    groups: dict[tuple[str, str], list[GeneratedName]] = {}
    for name in names:
        if name.rule.kind.namespace != "none":
            groups.setdefault((name.rule.kind.key, name.value), []).append(name)
    out: list[tuple[GeneratedName, GeneratedName]] = []
    for group in groups.values():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                same_place = first.location == second.location or "*" in (
                    first.location[0],
                    second.location[0],
                )
                same_name = (first.rule.id, first.env, first.app, first.extra) == (
                    second.rule.id,
                    second.env,
                    second.app,
                    second.extra,
                )
                if same_place and not same_name:
                    out.append((first, second))
    return out
