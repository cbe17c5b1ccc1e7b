# The api chart's make targets; the root Makefile includes this file.
# Needs helm 4, and for deploy also kubectl, jq, the AWS CLI and terraform.
LINT_TARGETS += helm-api-lint
TEST_TARGETS += helm-api-test
DEPLOY_TARGETS += helm-api-deploy
PLATFORM_DEPLOY_TARGETS += helm-api-namespace

# The image to deploy: the git SHA it was built from (docs/contracts.md). The Terraform root of
# ENV provides the app_values output; override either on the command line.
IMAGE_TAG ?= $(shell git rev-parse HEAD)
TERRAFORM_ENV_DIR ?= infra/envs/$(ENV)

.PHONY: helm-api-lint
helm-api-lint: ## Lint the api chart, strict, with every environment's values
	@for env in $(ENVIRONMENTS); do \
	  echo "helm lint api ($$env)"; \
	  helm lint --strict deploy/helm/api --namespace api \
	    -f deploy/helm/api/values-$$env.yaml -f deploy/helm/api/ci/platform-values.yaml || exit 1; \
	done

.PHONY: helm-api-test
helm-api-test: ## Render the api chart for every environment
	@for env in $(ENVIRONMENTS); do \
	  helm template api deploy/helm/api --namespace api \
	    -f deploy/helm/api/values-$$env.yaml -f deploy/helm/api/ci/platform-values.yaml >/dev/null || exit 1; \
	done

# The namespace (its labels must exist before any pod) and the app-deploy executor's access
# to it are cluster-scoped changes: the platform executor makes them (make addons), so the
# app deployer can never relax the namespace's Pod Security labels.
.PHONY: helm-api-namespace
helm-api-namespace: require-env ## Create api's namespace and the app deployer's access to it in ENV (platform executor, part of make addons)
	kubectl apply --server-side --field-manager=platform -f deploy/helm/api/namespace.yaml -f deploy/helm/api/access.yaml

.PHONY: helm-api-deploy
helm-api-deploy: require-env ## Deploy api to ENV: migration hook, rollout (rolls back on failure), helm test
	@helm version --template '{{ .Version }}' | grep -q '^v4\.' || { echo "helm 4 is required" >&2; exit 1; }
	mkdir -p build/helm/api
	terraform -chdir=$(TERRAFORM_ENV_DIR) output -json app_values \
	  | jq --exit-status '{platform: .["api"]}' > build/helm/api/platform-$(ENV).json
	repository="$$(jq -r .platform.imageRepository build/helm/api/platform-$(ENV).json)"; \
	registry="$${repository%%/*}"; \
	digest="$$(aws ecr describe-images --region "$$(cut -d. -f4 <<<"$$registry")" \
	  --repository-name "$${repository#*/}" --image-ids imageTag=$(IMAGE_TAG) \
	  --query 'imageDetails[0].imageDigest' --output text)"; \
	kubectl get rolebinding platformgen-app-deployer --namespace api >/dev/null \
	  || { echo "api's namespace or its deploy access is missing: run make addons ENV=$(ENV) (platform executor) first" >&2; exit 1; }; \
	helm upgrade --install api deploy/helm/api --namespace api \
	  -f deploy/helm/api/values-$(ENV).yaml -f build/helm/api/platform-$(ENV).json \
	  --set-string image.tag=$(IMAGE_TAG) --set-string image.digest="$$digest" \
	  --rollback-on-failure --wait=watcher --timeout 10m
	helm test api --namespace api --timeout 2m
