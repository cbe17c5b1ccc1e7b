# services/api: the api API (platformgen area: service). Included by the
# root Makefile; see services/api/Makefile for what each target does.
LINT_TARGETS += service-api-lint
TEST_TARGETS += service-api-test
BUILD_TARGETS += service-api-build

.PHONY: service-api-lint service-api-test service-api-build service-api-migrate
service-api-lint: ## api: ruff and hadolint
	$(MAKE) -C services/api lint
service-api-test: ## api: tests against TEST_DATABASE_URL
	$(MAKE) -C services/api test
service-api-build: ## api: the container image (IMAGE, TAG, CONTAINER)
	$(MAKE) -C services/api build
service-api-migrate: ## api: Alembic to head against DATABASE_*
	$(MAKE) -C services/api migrate
