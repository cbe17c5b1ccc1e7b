# database: the database kit (`dbkit`: preflight, verify, and the kit's other commands for
# the move to RDS). The kit is not copied into this repository: it is the platformgen-dbkit
# wheel of the platformgen release that rendered it, pinned with every dependency by SHA-256
# in database/requirements.lock. Runbook: docs/runbooks/database-migration.md; where the
# wheel comes from: database/README.md.
#
# DSNs come from the environment, never from this file or the command line:
#   DBKIT_SOURCE_DSN / DBKIT_TARGET_DSN    mysql://USER@HOST:PORT/DATABASE[?ssl-mode=...&ssl-ca=...]
#   DBKIT_SOURCE_PASSWORD / DBKIT_TARGET_PASSWORD
DATABASE_DIR := database
DATABASE_VENV := $(DATABASE_DIR)/.venv
DATABASE_PYTHON ?= python3
DATABASE_RUNS := $(DATABASE_DIR)/.runs
DATABASE_LOCK := $(DATABASE_DIR)/requirements.lock
# Where pip finds the platformgen-dbkit wheel: DBKIT_INDEX_URL or DBKIT_FIND_LINKS, set once
# in database/kit-source.mk (committed, so the executors and CI read it too). The lock's
# hashes decide what installs, whichever index answers: a look-alike package fails the check.
include $(DATABASE_DIR)/kit-source.mk
# The kit reads the spec's migration settings from the rendered dbkit.json.
DATABASE_DBKIT = DBKIT_CONFIG=$(DATABASE_DIR)/dbkit.json $(DATABASE_VENV)/bin/dbkit

# The kit's virtualenv, from the lock only: --require-hashes (every wheel's SHA-256, the
# kit's included), --no-deps (the lock is the whole set) and --only-binary (nothing built).
$(DATABASE_VENV)/.installed: $(DATABASE_LOCK)
	@test -n "$(strip $(DBKIT_INDEX_URL)$(DBKIT_FIND_LINKS))" || { echo "set DBKIT_INDEX_URL in database/kit-source.mk (and commit it) to the package index your team hosts the platformgen-dbkit wheel on, or DBKIT_FIND_LINKS to a folder or page that lists it: database/README.md says how to build and host it" >&2; exit 2; }
	rm -rf $(DATABASE_VENV)
	$(DATABASE_PYTHON) -m venv $(DATABASE_VENV)
	$(DATABASE_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
	  --only-binary :all: $(if $(strip $(DBKIT_INDEX_URL)),--index-url '$(DBKIT_INDEX_URL)') \
	  $(if $(strip $(DBKIT_FIND_LINKS)),--find-links '$(DBKIT_FIND_LINKS)') -r $(DATABASE_LOCK)
	touch $@

.PHONY: database-setup
database-setup: $(DATABASE_VENV)/.installed ## database: install the kit from database/requirements.lock (DBKIT_INDEX_URL=<your index>)

.PHONY: database-kit database-kit-args
database-kit: database-kit-args database-setup ## database: run any kit command: DBKIT_ARGS="verify --help" (exit codes: database/README.md)
	$(DATABASE_DBKIT) $(DBKIT_ARGS)

database-kit-args:
	@test -n "$(strip $(DBKIT_ARGS))" || { echo 'usage: make database-kit DBKIT_ARGS="<command> [options]" (DBKIT_ARGS=--help lists the commands)' >&2; exit 2; }

.PHONY: database-preflight
database-preflight: database-setup ## database: what breaks a DMS migration (exit 0 ok, 1 warnings, 2 blockers)
	$(DATABASE_DBKIT) preflight $(PREFLIGHT_ARGS)

.PHONY: database-verify
database-verify: database-setup ## database: prove the target holds the source's rows (resumable; VERIFY_ARGS=...)
	mkdir -p $(DATABASE_RUNS)
	$(DATABASE_DBKIT) verify --checkpoint $(DATABASE_RUNS)/verify-checkpoint.jsonl --report $(DATABASE_RUNS)/verify-report.json $(VERIFY_ARGS)
