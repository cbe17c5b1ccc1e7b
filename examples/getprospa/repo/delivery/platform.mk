# Delivery (docs/contracts.md, "Delivery"): one artifact per commit, built once, pushed
# once to the artifacts account's registry and bucket, promoted by digest. The root
# Makefile includes this file and sets PROJECT, REGISTRY, ARTIFACTS_BUCKET, SIGNING_KEY,
# CONTAINER_APPS, STATIC_APPS, REGION_<env> and BAKE_MINUTES_<env> from platform.yaml.
#
# The delivering CI runs, once per commit of the deploy branch:
#   make build publish bundle              images tagged with the git SHA, signed, recorded
# then for each environment in promotion order (its approval first, where it has one):
#   make execute ENV=<env> STAGE=apply     the platform executor: make plan apply addons
#   make execute ENV=<env> STAGE=deploy    the app-deploy executor: make deploy RELEASE=<sha>
#   make bake ENV=<env>                    its bake period, failing on any of its alarms
# Rollback: make deploy ENV=<env> IMAGE_DIGEST=<the previous digest> (IMAGE_DIGEST_<APP>
# with several container apps), or RELEASE=<a previous commit>.
#
# cosign and syft run in the generated CI and the executors (not on laptops): the targets
# check each is installed at the version pinned in delivery/tools.versions and name it when it
# is not. The executors install every tool they run first (make executor-tools, their install
# phase): delivery/install-tools.sh verifies each download before it installs it.
include delivery/tools.versions
AWS ?= aws
COSIGN ?= cosign
SYFT ?= syft
JQ ?= jq
CONTAINER ?= docker
TOOLS_BIN_DIR ?= /usr/local/bin
STAGE ?=
RELEASE ?=
TERRAFORM_ENV_DIR ?= infra/envs/$(ENV)
DELIVERY := build/delivery

export PROJECT ARTIFACTS_ACCOUNT ARTIFACTS_REGION REGISTRY ARTIFACTS_BUCKET SIGNING_KEY
export CONTAINER_APPS STATIC_APPS AWS COSIGN SYFT JQ CONTAINER COSIGN_VERSION SYFT_VERSION
export RELEASE STAGE TERRAFORM_ENV_DIR DELIVERY

# Local targets that run terraform or helm (make lint, make test) depend on these: a missing
# tool fails with the version pinned in tools.versions, and make tools installs exactly it.
.PHONY: tool-terraform tool-helm
tool-terraform:
	@TERRAFORM="$(TERRAFORM)" TERRAFORM_VERSION=$(TERRAFORM_VERSION) bash delivery/tools.sh terraform
tool-helm:
	@HELM="$(HELM)" HELM_VERSION=$(HELM_VERSION) bash delivery/tools.sh helm

.PHONY: executor-tools
executor-tools: ## Install terraform, helm, kubectl (the cluster's minor), cosign, syft and jq into TOOLS_BIN_DIR, each verified first (the executors' install phase)
	TOOLS_BIN_DIR=$(TOOLS_BIN_DIR) KUBERNETES_VERSION=$(KUBERNETES_VERSION) bash delivery/install-tools.sh

# CI steps that start from a bare image (Bitbucket Pipelines): delivery/ci.sh. Its AWS config
# (make ci-assume-role) is the credentials of every later make run of the step: the AWS CLI,
# Terraform and cosign's KMS signer read AWS_CONFIG_FILE. It exists only in CI (the target
# refuses to run without a Bitbucket OIDC token), under build/, which git ignores.
CI_DIR := $(CURDIR)/build/ci
ROLE_ARN ?=
PORTS ?=
ifneq ($(wildcard $(CI_DIR)/aws/config),)
export AWS_CONFIG_FILE := $(CI_DIR)/aws/config
export AWS_SDK_LOAD_CONFIG := 1
endif


.PHONY: ci-assume-role
ci-assume-role: ## CI (Bitbucket, oidc: true): later make runs of this step assume ROLE_ARN with the step's OIDC token (in ENV's region, else the artifacts region)
	CI_DIR=$(CI_DIR) ROLE_ARN=$(ROLE_ARN) REGION=$(if $(ENV),$(REGION_$(ENV)),$(ARTIFACTS_REGION)) bash delivery/ci.sh assume-role

.PHONY: ci-wait-ports
ci-wait-ports: ## CI: wait until each of PORTS accepts connections on 127.0.0.1 (the test databases' service containers)
	CI_DIR=$(CI_DIR) PORTS="$(PORTS)" bash delivery/ci.sh wait-ports

.PHONY: delivery-release
delivery-release: ## RELEASE=<git sha>: fetch releases/<sha>.json (digests and static files of that commit) into build/releases/
	@if [ -n "$${RELEASE:-}" ]; then bash delivery/release.sh fetch; fi

.PHONY: delivery-record
delivery-record:
	bash delivery/release.sh record

.PHONY: bundle
bundle: ## Upload this commit as s3://ARTIFACTS_BUCKET/source/<sha>.zip and its release manifest releases/<sha>.json (after make publish)
	bash delivery/release.sh bundle

.PHONY: execute
execute: require-env ## Run ENV's executor (STAGE=apply, deploy, or database with DBKIT_ARGS) on this commit's bundle; streams its log, exits with its status (the delivering CI)
	@case "$(STAGE)" in apply|deploy|database) ;; *) echo "set STAGE to apply (platform executor), deploy (app-deploy executor) or database (the database kit on the platform executor, DBKIT_ARGS)" >&2; exit 2 ;; esac
	ENV=$(ENV) REGION=$(REGION_$(ENV)) bash delivery/execute.sh

# The pull request's plan comment (GitHub Actions, .github/workflows/pull-request.yml): each
# plan job runs make plan then make plan-summary; one job then runs make plan-comment.
.PHONY: plan-summary
plan-summary: require-env ## Write ENV's saved plan (make plan first) as a Markdown section: build/ENV/plan-summary-ENV.md
	ENV=$(ENV) TERRAFORM=$(TERRAFORM) bash delivery/plan-summary.sh

.PHONY: plan-comment
plan-comment: ## Post the plan summaries (PLAN_SUMMARIES=build/plans) as the pull request's one comment, editing the previous one (GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER)
	ENVIRONMENTS="$(ENVIRONMENTS)" bash delivery/plan-comment.sh

.PHONY: bake
bake: require-env ## Wait ENV's bake period (bakeMinutes); fail as soon as one of ENV's alarms is in ALARM
	ENV=$(ENV) REGION=$(REGION_$(ENV)) BAKE_MINUTES=$(BAKE_MINUTES_$(ENV)) EDGE_ALARMS=$(EDGE_ALARMS) \
	  ALARM_PREFIX=$(PROJECT)-$(ENV)- OTHER_ALARM_PREFIXES="$(foreach e,$(filter $(ENV)-%,$(ENVIRONMENTS)),$(PROJECT)-$(e)-)" \
	  bash delivery/bake.sh
