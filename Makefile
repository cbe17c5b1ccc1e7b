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

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
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

.PHONY: tools
tools: $(patsubst tools/%.txt,$(TOOL_VENVS)/%/.installed,$(wildcard tools/*.txt)) ## Create the separate tool venvs (checkov, ...)

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests need (idempotent)
	scripts/install-system-deps.sh

.PHONY: run
run: setup ## Render the getprospa reference into build/, validate it, show what was generated
	$(BIN)/platformgen validate $(REFERENCE)/platform.yaml
	rm -rf $(BUILD)
	$(BIN)/platformgen new $(REFERENCE)/platform.yaml -o $(BUILD)
	$(BIN)/platformgen check $(BUILD)
	$(BIN)/python -m generator.summary $(BUILD)

.PHONY: test
test: system-deps setup tools ## Install everything the tests need, then run them all
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not alone"
	$(BIN)/pytest -m alone

.PHONY: reference
reference: setup ## Re-render examples/getprospa/repo after a template change
	$(BIN)/python -m generator.reference $(REFERENCE)

.PHONY: bench
bench: setup ## Benchmark rendering; prints JSON and writes bench/results/render.json
	$(BIN)/python bench/render.py

.PHONY: bench-verify
bench-verify: system-deps setup ## Benchmark dbkit verify vs pt-table-sync and the raw floor (2M rows); writes bench/results/verify.json
	$(BIN)/python bench/verify.py
.PHONY: bench-validate
bench-validate: setup ## Benchmark validate on adversarial YAML (40 kB to 1 MB) and a huge valid spec; writes bench/results/spec_validate.json
	$(BIN)/python bench/spec_validate.py
.PHONY: bench-terraform
bench-terraform: setup tools ## Benchmark the Terraform validation of the reference; prints JSON, writes bench/results/terraform.json
	$(BIN)/python bench/terraform.py

.PHONY: lint
lint: setup ## ruff check and format check
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench

.PHONY: clean
clean: ## Remove build output and the virtualenv
	rm -rf build $(VENV) $(TOOL_VENVS) .pytest_cache .ruff_cache

.PHONY: bench-service
bench-service: system-deps setup tools ## Service benchmark: gunicorn vs Flask dev server vs raw driver; writes bench/results/service.json
	$(TOOL_VENVS)/service/bin/python bench/service.py
