# Local runs (compose.yaml, docs/local-development.md); the root Makefile includes this file.
#
#   make up      MySQL 8.0 and api on 127.0.0.1, through docker compose or podman-compose
#   make down    stop them (VOLUMES=1 also drops the database volume)
#   make test    with TEST_DATABASE_URL unset: a MySQL of its own for the tests, removed after
COMPOSE_SH := bash local/compose.sh
VOLUMES ?=

# make test wraps the test targets in a database of its own unless the caller names one
# (the CI systems' MySQL service containers set TEST_DATABASE_URL).
ifeq ($(strip $(TEST_DATABASE_URL)),)
TEST_DATABASE := $(COMPOSE_SH) test
endif

.PHONY: up
up: services/api/certs/rds-ca-bundle.pem ## Build and start compose.yaml: MySQL and the API (development mode) on 127.0.0.1
	$(COMPOSE_SH) up --build

.PHONY: down
down: ## Stop what make up started (VOLUMES=1 also drops the database's data)
	$(COMPOSE_SH) down $(if $(VOLUMES),--volumes)

# The image copies the RDS CA bundle in; services/api/Makefile downloads it.
services/api/certs/rds-ca-bundle.pem:
	$(MAKE) -C services/api certs/rds-ca-bundle.pem
