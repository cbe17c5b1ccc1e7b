# Terraform targets (docs/contracts.md, "Make targets"). The root Makefile includes this file; run from the
# repository root:
#
#   make infra-bootstrap ENV=dev FIRST=1   once per environment (docs/runbooks/new-environment.md)
#   make infra-backup ENV=dev FIRST=1      once per environment, with a backup account (infra/backup/)
#   make infra-artifacts FIRST=1           once per project: the registry, artifact bucket, signing key
#                                          and publisher in the artifacts account (infra/artifacts/)
#   make plan ENV=dev                      plan the environment (saved to build/ for apply)
#   make apply ENV=dev                     apply that plan
#   make addons ENV=dev                    controllers and app namespaces (platform executor)
#   make deploy ENV=dev                    the apps (app-deploy executor)
#
# Terraform 1.11+ and the hashicorp/aws ~> 5.100 provider. One plugin cache for every
# root, so init links the provider instead of downloading or copying it per root.
INFRA := infra
INFRA_ROOTS := $(INFRA)/bootstrap $(wildcard $(INFRA)/backup) $(wildcard $(INFRA)/artifacts) $(wildcard $(INFRA)/envs/*)
INFRA_MODULES := $(filter-out %/.mocks,$(wildcard $(INFRA)/modules/*))
INFRA_BUILD = build/$(ENV)
AWS ?= aws
export TF_PLUGIN_CACHE_DIR ?= $(HOME)/.terraform.d/plugin-cache
export TF_IN_AUTOMATION ?= 1
# Parallel jobs for lint and test across roots and modules.
INFRA_JOBS ?= 4

LINT_TARGETS += infra-lint
TEST_TARGETS += infra-test
PLAN_TARGETS += infra-plan
APPLY_TARGETS += infra-apply
PLATFORM_DEPLOY_TARGETS += infra-addons

# Every root and module commits .terraform.lock.hcl: hashicorp/aws at the exact version,
# with its h1: hash (the linux_amd64 package) and the zh: hashes of every platform's
# package (docs/supply-chain.md). Every init here is -lockfile=readonly: it
# installs exactly the locked provider and never rewrites a lock file, so a provider
# upgrade is always a reviewed change of those files (see that page for how).
#
# Every root and module shares one plugin cache. A cache entry is written only by an
# init that does not find it yet, and two such inits at once break each other ("failed
# to compute a checksum ... no such file or directory"). So one init runs alone first and
# fills the cache; the others, whose lock files record the provider's hash, only link
# the cached provider and run in parallel. A folder added without a lock file gets the
# platform's. Every init also holds a lock on the cache (flock, where installed), so two
# make runs at once wait for each other.
INFRA_FIRST := $(firstword $(INFRA_ROOTS))
INFRA_LOCK := $(if $(shell command -v flock 2>/dev/null),flock "$$TF_PLUGIN_CACHE_DIR/.platformgen-init.lock",)
infra_init = $(INFRA_LOCK) $(TERRAFORM) -chdir=$(1) init -backend=false -input=false -lockfile=readonly >/dev/null

.PHONY: infra-warm-cache
infra-warm-cache: tool-terraform
	mkdir -p "$$TF_PLUGIN_CACHE_DIR"
	for dir in $(filter-out $(INFRA_FIRST),$(INFRA_ROOTS) $(INFRA_MODULES)); do \
	  test -f "$$dir/.terraform.lock.hcl" || cp $(INFRA_FIRST)/.terraform.lock.hcl "$$dir/"; \
	done
	$(call infra_init,$(INFRA_FIRST))

# A module that takes aliased providers (configuration_aliases) cannot be validated on its
# own: the roots that call it validate it, and infra-test runs its own tests.
INFRA_ALIASED := $(patsubst %/,%,$(sort $(dir $(shell grep -l configuration_aliases $(addsuffix /*.tf,$(INFRA_MODULES)) 2>/dev/null))))

.PHONY: infra-lint
infra-lint: infra-warm-cache ## Terraform: fmt -check, then init (no backend) and validate every root and module
	$(TERRAFORM) fmt -check -recursive $(INFRA)
	printf '%s\n' $(INFRA_ROOTS) $(filter-out $(INFRA_ALIASED),$(INFRA_MODULES)) | xargs -P $(INFRA_JOBS) -I{} sh -c \
	  '$(call infra_init,{}) && $(TERRAFORM) -chdir={} validate'

.PHONY: infra-test
infra-test: infra-warm-cache ## Terraform: the modules' and the bootstrap's tests (mock provider, no AWS access needed)
	printf '%s\n' $(INFRA_MODULES) $(INFRA)/bootstrap | xargs -P $(INFRA_JOBS) -I{} sh -c \
	  '$(call infra_init,{}) && $(TERRAFORM) -chdir={} test'

.PHONY: infra-init
infra-init: require-env
	mkdir -p "$$TF_PLUGIN_CACHE_DIR" $(INFRA_BUILD)
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) init -input=false -lockfile=readonly -reconfigure -backend-config=backend.tfbackend

.PHONY: infra-plan
infra-plan: require-env infra-init ## Terraform: plan ENV and save the plan to build/ENV/infra.tfplan
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) plan -input=false -out=$(CURDIR)/$(INFRA_BUILD)/infra.tfplan

.PHONY: infra-apply
infra-apply: require-env infra-init ## Terraform: apply the saved plan of ENV (make plan first)
	test -f $(INFRA_BUILD)/infra.tfplan || { echo "no saved plan: run make plan ENV=$(ENV) first" >&2; exit 2; }
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) apply -input=false $(CURDIR)/$(INFRA_BUILD)/infra.tfplan
	rm -f $(INFRA_BUILD)/infra.tfplan

.PHONY: infra-drift
infra-drift: require-env infra-init ## Terraform: exit 2 when ENV drifted from its configuration (read-only)
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) plan -input=false -lock=false -detailed-exitcode

.PHONY: infra-outputs
infra-outputs: require-env infra-init ## Terraform: write ENV's app_values (the charts' platform: values) to build/ENV/
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) output -json app_values > $(INFRA_BUILD)/app_values.json
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) output -json cluster > $(INFRA_BUILD)/cluster.json

# The state bucket, roles and permissions boundary of one environment, applied by an
# administrator of its account. FIRST=1 on the very first run: state is local until the
# bucket exists, then moves into it.
.PHONY: infra-bootstrap
infra-bootstrap: require-env ## Terraform: state bucket, OIDC providers, roles and permissions boundary of ENV (FIRST=1 the first time)
	mkdir -p "$$TF_PLUGIN_CACHE_DIR"
ifeq ($(FIRST),1)
	printf 'terraform {\n  backend "local" {}\n}\n' > $(INFRA)/bootstrap/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/bootstrap init -input=false -lockfile=readonly -reconfigure
	$(TERRAFORM) -chdir=$(INFRA)/bootstrap apply -input=false -var environment=$(ENV)
	rm -f $(INFRA)/bootstrap/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/bootstrap init -input=false -lockfile=readonly -migrate-state -force-copy \
	  -backend-config=../envs/$(ENV)/backend.tfbackend -backend-config=key=bootstrap/terraform.tfstate
	rm -f $(INFRA)/bootstrap/terraform.tfstate $(INFRA)/bootstrap/terraform.tfstate.backup
else
	$(TERRAFORM) -chdir=$(INFRA)/bootstrap init -input=false -lockfile=readonly -reconfigure \
	  -backend-config=../envs/$(ENV)/backend.tfbackend -backend-config=key=bootstrap/terraform.tfstate
	$(TERRAFORM) -chdir=$(INFRA)/bootstrap apply -input=false -var environment=$(ENV)
endif

# The backup account's vault for one environment (infra/backup/, rendered when
# platform.yaml names backup.account), run with credentials of the backup account before
# the environment's first apply. FIRST=1 on the very first run: state is local until its
# bucket exists, then moves into it.
.PHONY: infra-backup
infra-backup: require-env ## Terraform: the backup account's vault for ENV's database copies (FIRST=1 the first time)
	test -d $(INFRA)/backup || { echo "platform.yaml names no backup account (backup.account): nothing to do" >&2; exit 2; }
	mkdir -p "$$TF_PLUGIN_CACHE_DIR"
ifeq ($(FIRST),1)
	printf 'terraform {\n  backend "local" {}\n}\n' > $(INFRA)/backup/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/backup init -input=false -reconfigure
	$(TERRAFORM) -chdir=$(INFRA)/backup apply -input=false -var environment=$(ENV)
	rm -f $(INFRA)/backup/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/backup init -input=false -migrate-state -force-copy \
	  -backend-config=$(ENV).tfbackend
	rm -f $(INFRA)/backup/terraform.tfstate $(INFRA)/backup/terraform.tfstate.backup
else
	$(TERRAFORM) -chdir=$(INFRA)/backup init -input=false -reconfigure -backend-config=$(ENV).tfbackend
	$(TERRAFORM) -chdir=$(INFRA)/backup apply -input=false -var environment=$(ENV)
endif

# The artifacts account (infra/artifacts/): the image repositories every environment pulls
# from, the artifact bucket (source bundles, release manifests), the cosign signing key and
# the publisher role of the delivering CI system. One state for the project, run with
# credentials of the artifacts account, after the infra-bootstrap of the environment whose
# account it is (if it is one: that bootstrap creates the OIDC provider used here) and
# before the first deploy. FIRST=1 on the very first run: state is local until its bucket
# exists, then moves into it.
.PHONY: infra-artifacts
infra-artifacts: ## Terraform: registry, artifact bucket, signing key and publisher in the artifacts account (FIRST=1 the first time)
	mkdir -p "$$TF_PLUGIN_CACHE_DIR"
ifeq ($(FIRST),1)
	printf 'terraform {\n  backend "local" {}\n}\n' > $(INFRA)/artifacts/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/artifacts init -input=false -lockfile=readonly -reconfigure
	$(TERRAFORM) -chdir=$(INFRA)/artifacts apply -input=false
	rm -f $(INFRA)/artifacts/zz_first_run_override.tf
	$(TERRAFORM) -chdir=$(INFRA)/artifacts init -input=false -lockfile=readonly -migrate-state -force-copy \
	  -backend-config=artifacts.tfbackend
	rm -f $(INFRA)/artifacts/terraform.tfstate $(INFRA)/artifacts/terraform.tfstate.backup
else
	$(TERRAFORM) -chdir=$(INFRA)/artifacts init -input=false -lockfile=readonly -reconfigure -backend-config=artifacts.tfbackend
	$(TERRAFORM) -chdir=$(INFRA)/artifacts apply -input=false
endif

# The AWS Load Balancer Controller and the External Secrets Operator, at pinned chart
# versions (infra/addons/versions.mk), metrics-server and Karpenter (pinned by version
# and digest) with ENV's NodePool, and the app-deploy executor's ClusterRole. Their IAM
# roles and Pod Identity associations come from Terraform. Cluster admin: the platform
# executor runs it (make addons). The cluster API is private: run from inside the VPC (the
# executor's CodeBuild project in the private subnets, or SSM port forwarding).
include $(INFRA)/addons/versions.mk
ADDON_CHARTS = $(INFRA_BUILD)/charts

# The charts pinned by digest, pulled and checked before anything is installed: a chart
# whose digest differs from versions.mk stops the run.
.PHONY: infra-addon-charts
infra-addon-charts: require-env
	rm -rf $(ADDON_CHARTS) && mkdir -p $(ADDON_CHARTS)
	$(HELM) pull metrics-server --repo $(METRICS_SERVER_REPO) --version $(METRICS_SERVER_CHART_VERSION) -d $(ADDON_CHARTS)
	echo "$(patsubst sha256:%,%,$(METRICS_SERVER_CHART_DIGEST))  $(ADDON_CHARTS)/metrics-server-$(METRICS_SERVER_CHART_VERSION).tgz" | sha256sum -c -
	$(HELM) pull $(KARPENTER_CHART) --version $(KARPENTER_CHART_VERSION) -d $(ADDON_CHARTS) 2>&1 | tee $(ADDON_CHARTS)/karpenter.pull
	grep -qx "Digest: $(KARPENTER_CHART_DIGEST)" $(ADDON_CHARTS)/karpenter.pull || { echo "karpenter $(KARPENTER_CHART_VERSION): digest is not $(KARPENTER_CHART_DIGEST)" >&2; exit 1; }
	tar -xzf $(ADDON_CHARTS)/karpenter-$(KARPENTER_CHART_VERSION).tgz -C $(ADDON_CHARTS) karpenter/crds
ifneq ($(wildcard $(INFRA)/addons/datadog),)
	test -n "$(DATADOG_CHART_DIGEST)" || { echo "infra/addons/datadog/versions.mk: record DATADOG_CHART_DIGEST (how: the comment there) before the agent is installed" >&2; exit 1; }
	$(HELM) pull datadog --repo $(DATADOG_REPO) --version $(DATADOG_CHART_VERSION) -d $(ADDON_CHARTS)
	echo "$(patsubst sha256:%,%,$(DATADOG_CHART_DIGEST))  $(ADDON_CHARTS)/datadog-$(DATADOG_CHART_VERSION).tgz" | sha256sum -c -
endif

# observability.provider datadog: the Datadog agent (infra/addons/datadog).
-include $(INFRA)/addons/datadog/versions.mk

.PHONY: infra-addons
infra-addons: require-env infra-outputs infra-addon-charts ## Install or upgrade the cluster controllers of ENV (helm, in the VPC; platform executor)
	$(AWS) eks update-kubeconfig --name "$$(jq -r .name $(INFRA_BUILD)/cluster.json)" \
	  --region "$$(jq -r .region $(INFRA_BUILD)/cluster.json)" --kubeconfig $(INFRA_BUILD)/kubeconfig
	$(HELM) upgrade --install aws-load-balancer-controller aws-load-balancer-controller \
	  --repo $(ALB_CONTROLLER_REPO) --version $(ALB_CONTROLLER_CHART_VERSION) \
	  --namespace kube-system --kubeconfig $(INFRA_BUILD)/kubeconfig --wait \
	  -f $(INFRA)/addons/aws-load-balancer-controller.values.yaml \
	  --set-string clusterName="$$(jq -r .name $(INFRA_BUILD)/cluster.json)" \
	  --set-string region="$$(jq -r .region $(INFRA_BUILD)/cluster.json)" \
	  --set-string vpcId="$$(jq -r .vpcId $(INFRA_BUILD)/cluster.json)"
	$(HELM) upgrade --install external-secrets external-secrets \
	  --repo $(EXTERNAL_SECRETS_REPO) --version $(EXTERNAL_SECRETS_CHART_VERSION) \
	  --namespace external-secrets --create-namespace --kubeconfig $(INFRA_BUILD)/kubeconfig --wait \
	  -f $(INFRA)/addons/external-secrets.values.yaml
	$(HELM) upgrade --install metrics-server $(ADDON_CHARTS)/metrics-server-$(METRICS_SERVER_CHART_VERSION).tgz \
	  --namespace kube-system --kubeconfig $(INFRA_BUILD)/kubeconfig --wait \
	  -f $(INFRA)/addons/metrics-server.values.yaml
	# Helm installs a chart's CRDs only once: apply them first, so an upgrade updates them.
	$(KUBECTL) apply --server-side --force-conflicts --field-manager=platform --kubeconfig $(INFRA_BUILD)/kubeconfig \
	  -f $(ADDON_CHARTS)/karpenter/crds
	$(HELM) upgrade --install karpenter $(ADDON_CHARTS)/karpenter-$(KARPENTER_CHART_VERSION).tgz \
	  --namespace karpenter --create-namespace --kubeconfig $(INFRA_BUILD)/kubeconfig --wait --skip-crds \
	  -f $(INFRA)/addons/karpenter.values.yaml \
	  --set-string settings.clusterName="$$(jq -r .name $(INFRA_BUILD)/cluster.json)" \
	  --set-string settings.interruptionQueue="$$(jq -r .karpenterInterruptionQueue $(INFRA_BUILD)/cluster.json)"
	$(KUBECTL) apply --server-side --field-manager=platform --kubeconfig $(INFRA_BUILD)/kubeconfig \
	  -f $(INFRA)/addons/karpenter-$(ENV).yaml
	$(KUBECTL) apply --server-side --field-manager=platform --kubeconfig $(INFRA_BUILD)/kubeconfig \
	  -f $(INFRA)/addons/app-deployer.yaml
ifneq ($(wildcard $(INFRA)/addons/datadog),)
	sed -e "s|ROLE_ARN|$$(jq -r .datadogApiKeyRoleArn $(INFRA_BUILD)/cluster.json)|" \
	  -e "s|REGION|$$(jq -r .region $(INFRA_BUILD)/cluster.json)|" $(INFRA)/addons/datadog/api-key.yaml \
	  | $(KUBECTL) apply --server-side --field-manager=platform --kubeconfig $(INFRA_BUILD)/kubeconfig -f -
	$(KUBECTL) wait --for=condition=Ready externalsecret/datadog-api-key -n datadog \
	  --kubeconfig $(INFRA_BUILD)/kubeconfig --timeout=120s
	$(HELM) upgrade --install datadog $(ADDON_CHARTS)/datadog-$(DATADOG_CHART_VERSION).tgz \
	  --namespace datadog --kubeconfig $(INFRA_BUILD)/kubeconfig --wait \
	  -f $(INFRA)/addons/datadog/values.yaml \
	  --set-string datadog.clusterName="$$(jq -r .name $(INFRA_BUILD)/cluster.json)"
endif
