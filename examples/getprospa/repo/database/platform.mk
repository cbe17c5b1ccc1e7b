# database: dbkit, the kit that checks a MySQL migration before it starts (preflight) and
# proves the copy afterwards (verify). Runbook: docs/runbooks/database-migration.md.
#
# DSNs come from the environment, never from this file or the command line:
#   DBKIT_SOURCE_DSN / DBKIT_TARGET_DSN    mysql://USER@HOST:PORT/DATABASE[?ssl-mode=...&ssl-ca=...]
#   DBKIT_SOURCE_PASSWORD / DBKIT_TARGET_PASSWORD
DATABASE_KIT := database
DATABASE_VENV := $(DATABASE_KIT)/.venv
DATABASE_PYTHON ?= python3
DATABASE_RUNS := $(DATABASE_KIT)/.runs
DATABASE_DBKIT := PYTHONPATH=$(DATABASE_KIT)/src $(DATABASE_VENV)/bin/python -m dbkit

DATABASE_UV ?= uv
DATABASE_UV_COMPILE = $(DATABASE_UV) pip compile pyproject.toml --quiet --generate-hashes --no-annotate \
  --python-version 3.11 --python-platform linux --custom-compile-command 'make database-lock'

# requirements-dev.lock is requirements.lock plus the kit's test tools, every file's
# sha256 included: pip refuses anything else (--require-hashes) and builds nothing from source.
$(DATABASE_VENV)/.installed: $(DATABASE_KIT)/requirements.lock $(DATABASE_KIT)/requirements-dev.lock
	$(DATABASE_PYTHON) -m venv $(DATABASE_VENV)
	cd $(DATABASE_KIT) && .venv/bin/pip install --quiet --disable-pip-version-check --no-deps \
	  --require-hashes --only-binary :all: -r requirements-dev.lock
	touch $@

.PHONY: database-setup
database-setup: $(DATABASE_VENV)/.installed ## database: the kit's virtualenv, from its hash-checked lock files

.PHONY: database-lock
database-lock: ## database: re-resolve the kit's requirements*.lock (with hashes) from pyproject.toml; needs uv and PyPI
	cd $(DATABASE_KIT) && $(DATABASE_UV_COMPILE) -o requirements.lock
	cd $(DATABASE_KIT) && $(DATABASE_UV_COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock

.PHONY: database-lint
database-lint: database-setup ## database: ruff check and format check of the kit
	cd $(DATABASE_KIT) && .venv/bin/ruff check . && .venv/bin/ruff format --check .

.PHONY: database-test
database-test: database-setup ## database: the kit's tests on a source and a target database (DBKIT_TEST_SOURCE_DSN, DBKIT_TEST_TARGET_DSN; make test sets both)
	cd $(DATABASE_KIT) && .venv/bin/python -m pytest

.PHONY: database-preflight
database-preflight: database-setup ## database: what breaks a DMS migration (exit 0 ok, 1 warnings, 2 blockers)
	$(DATABASE_DBKIT) preflight $(PREFLIGHT_ARGS)

.PHONY: database-verify
database-verify: database-setup ## database: prove the target holds the source's rows (resumable; VERIFY_ARGS=...)
	mkdir -p $(DATABASE_RUNS)
	$(DATABASE_DBKIT) verify --checkpoint $(DATABASE_RUNS)/verify-checkpoint.jsonl --report $(DATABASE_RUNS)/verify-report.json $(VERIFY_ARGS)

LINT_TARGETS += database-lint
TEST_TARGETS += database-test
