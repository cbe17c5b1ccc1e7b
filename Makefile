# platformgen: `make run` renders the reference, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REFERENCE := examples/getprospa
BUILD := build/getprospa
# pytest-xdist workers; the heavy validators are CPU-bound on a 2-core machine.
PYTEST_WORKERS ?= 2

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: pyproject.toml dbkit/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]' -e ./dbkit
	touch $@

.PHONY: setup
setup: $(BIN)/.installed ## Create the virtualenv with platformgen and its test tools

# Tools whose dependency pins clash with the test virtualenv get a venv of their own,
# pinned by tools/<tool>.txt; tests find them with tests/support/tools.py.
TOOL_VENVS := .tool-venvs
$(TOOL_VENVS)/%/.installed: tools/%.txt
	rm -rf $(TOOL_VENVS)/$*
	$(PYTHON) -m venv $(TOOL_VENVS)/$*
	$(TOOL_VENVS)/$*/bin/pip install --quiet --upgrade pip==26.3
	$(TOOL_VENVS)/$*/bin/pip install --quiet --no-deps -r tools/$*.txt
	touch $@

# Renovate's config validator, from the lock the generated repositories carry (one pin for
# both: templates/repo/tools/renovate/package-lock.json, every package's integrity hash).
RENOVATE_LOCK := templates/repo/tools/renovate
$(TOOL_VENVS)/renovate/.installed: $(RENOVATE_LOCK)/package.json $(RENOVATE_LOCK)/package-lock.json
	rm -rf $(TOOL_VENVS)/renovate && mkdir -p $(TOOL_VENVS)/renovate
	cp $(RENOVATE_LOCK)/package.json $(RENOVATE_LOCK)/package-lock.json $(TOOL_VENVS)/renovate/
	cd $(TOOL_VENVS)/renovate && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: tools
tools: $(patsubst tools/%.txt,$(TOOL_VENVS)/%/.installed,$(wildcard tools/*.txt)) $(TOOL_VENVS)/renovate/.installed ## Create the separate tool venvs (checkov, ...) and Renovate's validator

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests need (idempotent)
	scripts/install-system-deps.sh

.PHONY: run
run: setup ## Render the getprospa reference into build/, validate it, show what was generated
	$(BIN)/platformgen validate $(REFERENCE)/platform.yaml
	rm -rf $(BUILD)
	$(BIN)/platformgen new $(REFERENCE)/platform.yaml -o $(BUILD)
	$(BIN)/platformgen check $(BUILD)
	$(BIN)/python scripts/summary.py $(BUILD)

# Each phase of `make test` is timed into build/test-times; the table prints at the end,
# also when a phase fails (make test then exits with that phase's status).
TEST_TIMES := build/test-times
# The `alone` tests (the moto applies) run after the parallel run, by themselves: beside
# it, even niced, moto answered requests as if applied twice (docs/terraform.md).
PHASE := scripts/test-phases.sh run $(TEST_TIMES)

.PHONY: test
test: ## Install everything the tests need, then run them all; prints the time of each phase
	@mkdir -p build && : > $(TEST_TIMES)
	@trap 'scripts/test-phases.sh report $(TEST_TIMES)' EXIT; \
	$(PHASE) setup/system-deps $(MAKE) --no-print-directory system-deps setup && \
	$(PHASE) tools $(MAKE) --no-print-directory tools && \
	$(PHASE) lint $(MAKE) --no-print-directory lint && \
	$(PHASE) "parallel pytest" $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not alone" && \
	$(PHASE) "alone pytest" $(BIN)/pytest -m alone

# Developer tools live in scripts/: the wheel ships only generator/, what `platformgen` runs.
.PHONY: docs
docs: setup ## Regenerate the generated docs: docs/spec-reference.md, docs/names.md, module READMEs
	$(BIN)/python scripts/spec_docs.py
	$(BIN)/python scripts/terraform_docs.py

.PHONY: reference
reference: docs ## Re-render examples/getprospa/repo after a template change (runs `make docs` first)
	$(BIN)/python scripts/reference.py $(REFERENCE)

# Releases (docs/releasing.md): releases.toml is the record; tags and the wheel's
# history bundle are built from it.
.PHONY: release-record
release-record: setup ## Record the templates of COMMIT (default HEAD) as release VERSION in releases.toml
	@test -n "$(VERSION)" || { echo "usage: make release-record VERSION=x.y.z [COMMIT=rev]"; exit 2; }
	$(BIN)/python scripts/release.py record $(VERSION) --commit $(or $(COMMIT),HEAD)

.PHONY: release-check
release-check: setup ## Verify every recorded release against the git history
	$(BIN)/python scripts/release.py check

.PHONY: release-tags
release-tags: setup ## Create the missing v<version> tags from releases.toml
	$(BIN)/python scripts/release.py tags

.PHONY: dist
dist: setup ## Build the sdist and wheel into dist/ (fails when a release cannot be bundled)
	$(BIN)/python -m build --no-isolation --outdir dist .

# The database kit (dbkit/, distribution platformgen-dbkit) reaches generated repositories as a
# hash-pinned wheel (docs/adr/0018-database-kit-wheel.md): built reproducibly from the files
# git knows under dbkit/; the lock the database template ships holds its sha256.
.PHONY: dbkit-dist
dbkit-dist: setup ## Build the database kit's wheel into build/dbkit-dist/ (reproducible: same checkout, same bytes)
	$(BIN)/python scripts/dbkit_dist.py build

.PHONY: dbkit-lock
dbkit-lock: setup ## After changing dbkit/: rebuild its wheel and rewrite the hash-pinned templates/database/database/requirements.lock
	$(BIN)/python scripts/dbkit_dist.py lock

.PHONY: bench
bench: setup ## Benchmark rendering; prints JSON and writes bench/results/render.json
	$(BIN)/python bench/render.py

.PHONY: bench-verify
bench-verify: system-deps setup ## Benchmark dbkit verify vs pt-table-sync and the raw floor (2M rows), locally and through a 5 ms-each-way delaying proxy; writes bench/results/verify.json
	$(BIN)/python bench/verify.py
.PHONY: bench-cutover
bench-cutover: system-deps setup ## Benchmark dbkit cutover: write-freeze time with 1M rows under 200 acknowledged writes/s (target <= 15 s); writes bench/results/cutover.json
	$(BIN)/python bench/cutover.py
.PHONY: bench-validate
bench-validate: setup ## Benchmark validate on adversarial YAML (40 kB to 1 MB) and a huge valid spec; writes bench/results/spec_validate.json
	$(BIN)/python bench/spec_validate.py
.PHONY: bench-terraform
bench-terraform: setup tools ## Benchmark the Terraform validation of the reference; prints JSON, writes bench/results/terraform.json
	$(BIN)/python bench/terraform.py

.PHONY: lint
lint: setup ## ruff check and format check (platformgen, and the database kit with its own settings)
	$(BIN)/ruff check generator tests bench scripts hatch_build.py
	$(BIN)/ruff format --check generator tests bench scripts hatch_build.py
	cd dbkit && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .

.PHONY: clean
clean: ## Remove build output and the virtualenv
	rm -rf build $(VENV) $(TOOL_VENVS) .pytest_cache .ruff_cache

.PHONY: bench-deploy-time
bench-deploy-time: system-deps setup ## Deploy-time figures quoted in the generated docs/deploy-time.md (image build, chart render, mocked plan); writes bench/results/deploy_time.json
	$(BIN)/python bench/deploy_time.py
.PHONY: bench-service
bench-service: system-deps setup tools ## Service benchmark: CPU-ms per request vs a Flask+SQLAlchemy floor, gunicorn vs dev server vs raw driver; writes bench/results/service.json
	$(TOOL_VENVS)/service/bin/python bench/service.py
