# The api chart's make targets; the root Makefile includes this file.
# Needs helm 4 (the version in delivery/tools.versions: make tools installs it), and for
# deploy also kubectl, jq, the AWS CLI and terraform. Every recipe runs them as $(HELM),
# $(KUBECTL) and $(TERRAFORM), so another copy or a shim can be swapped in.
LINT_TARGETS += helm-api-lint
TEST_TARGETS += helm-api-test
DEPLOY_TARGETS += helm-api-deploy
PLATFORM_DEPLOY_TARGETS += helm-api-namespace

# The image: built as getprospa/api:<git sha> (make build), pushed once to
# the artifacts registry and signed (make publish, delivery/publish-image.sh), deployed by
# digest (make deploy: IMAGE_DIGEST_API, IMAGE_DIGEST with one container app,
# or RELEASE=<git sha>; delivery/digest.sh). An API with a service area builds in
# services/api/; any other app's Dockerfile lives in apps/api/.
TERRAFORM_ENV_DIR ?= infra/envs/$(ENV)
PUBLISH_TARGETS += helm-api-publish
ifeq ($(wildcard services/api/Makefile),)
BUILD_TARGETS += helm-api-image
endif

.PHONY: helm-api-image
helm-api-image: ## Build api's image from apps/api/Dockerfile, tagged with the git SHA
	@test -f apps/api/Dockerfile || { echo "apps/api/Dockerfile is missing: put api's Dockerfile there" >&2; exit 2; }
	$(CONTAINER) build -t getprospa/api:$$(git rev-parse HEAD) apps/api

.PHONY: helm-api-publish
helm-api-publish: ## Push api's image of this commit once, sign it, attach its SBOM
	bash delivery/publish-image.sh api

.PHONY: helm-api-lint
helm-api-lint: tool-helm ## Lint the api chart, strict, with every environment's values
	@for env in $(ENVIRONMENTS); do \
	  echo "helm lint api ($$env)"; \
	  $(HELM) lint --strict deploy/helm/api --namespace api \
	    -f deploy/helm/api/values-$$env.yaml -f deploy/helm/api/ci/platform-values.yaml || exit 1; \
	done

.PHONY: helm-api-test
helm-api-test: tool-helm ## Render the api chart for every environment
	@for env in $(ENVIRONMENTS); do \
	  $(HELM) template api deploy/helm/api --namespace api \
	    -f deploy/helm/api/values-$$env.yaml -f deploy/helm/api/ci/platform-values.yaml >/dev/null || exit 1; \
	done

# The namespace (its labels must exist before any pod) and the app-deploy executor's access
# to it are cluster-scoped changes: the platform executor makes them (make addons), so the
# app deployer can never relax the namespace's Pod Security labels.
.PHONY: helm-api-namespace
helm-api-namespace: require-env ## Create api's namespace and the app deployer's access to it in ENV (platform executor, part of make addons)
	$(KUBECTL) apply --server-side --field-manager=platform -f deploy/helm/api/namespace.yaml -f deploy/helm/api/access.yaml

.PHONY: helm-api-deploy
helm-api-deploy: require-env delivery-release ## Deploy api to ENV by digest (signature verified first): migration hook, rollout (rolls back on failure), helm test
	@bash delivery/digest.sh api >/dev/null
	@$(HELM) version --template '{{ .Version }}' | grep -q '^v4\.' || { echo "helm 4 is required" >&2; exit 1; }
	digest="$$(bash delivery/digest.sh api)"; \
	mkdir -p build/helm/api; \
	$(TERRAFORM) -chdir=$(TERRAFORM_ENV_DIR) output -json app_values \
	  | jq --exit-status '{platform: .["api"]}' > build/helm/api/platform-$(ENV).json; \
	repository="$$(jq -r .platform.imageRepository build/helm/api/platform-$(ENV).json)"; \
	tag="$$(bash delivery/verify-image.sh "$$repository" "$$digest")"; \
	$(KUBECTL) get rolebinding platformgen-app-deployer --namespace api >/dev/null \
	  || { echo "api's namespace or its deploy access is missing: run make addons ENV=$(ENV) (platform executor) first" >&2; exit 1; }; \
	$(HELM) upgrade --install api deploy/helm/api --namespace api \
	  -f deploy/helm/api/values-$(ENV).yaml -f build/helm/api/platform-$(ENV).json \
	  --set-string image.tag="$$tag" --set-string image.digest="$$digest" \
	  --rollback-on-failure --wait=watcher --timeout 10m
	$(HELM) test api --namespace api --timeout 2m
