# The database kit inside the VPC (docs/contracts.md, "Database users"). RDS sits in
# isolated subnets that only the cluster's database clients and the platform executor
# reach, so `users`, `lag` and `cutover` run on the platform executor (CodeBuild in the
# environment's private subnets, role <project>-<env>-platform), never on a laptop:
#
#   make database-run ENV=<env> DBKIT_ARGS="lag --json"   start the platform executor with
#                                  STAGE=database on this commit's bundle, stream its log
#   make database-users-plan ENV=<env>        what users apply would change
#   make database-users-apply ENV=<env>       create/alter the users, fill their secrets
#                                  (the apply stage runs it after every terraform apply)
#   make database-rotate ENV=<env> DATABASE_USER=<logical user>
#   make database-lag ENV=<env>               end-to-end lag (heartbeat), JSON lines
#   make database-cutover ENV=<env> CUTOVER_ARGS="--dry-run ..."
#
# Outside CodeBuild each convenience target starts the executor (make database-run);
# inside it (CODEBUILD_BUILD_ID is set) it runs the kit directly (make database-kit-env), which
# reads the master secret (break-glass) and connects as the master: only the platform
# executor and people may read it. DBKIT_ARGS is split on blanks, never through a shell,
# and a hook command (--switch-command) is refused there: it would run as the executor.
# In the migration's target environment lag, cutover, preflight, verify and schema also get
# the DigitalOcean source (its secret, spec migration.source). Journals and reports go in
# database/.runs/ (e.g. --journal database/.runs/cutover-journal.jsonl --report
# database/.runs/cutover): each run restores that folder from, and saves it back to, the
# environment's state bucket under database-runs/<env>/, so --abort and --resume in a
# later build find the cutover's journal.
DATABASE_USERS_FILE ?= database/users.json
DATABASE_USER ?=
CUTOVER_ARGS ?=
DBKIT_ARGS ?=
RDS_CA_BUNDLE_URL ?= https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
export DBKIT_ARGS

ifdef CODEBUILD_BUILD_ID
DATABASE_IN_VPC = $(MAKE) --no-print-directory database-kit-env ENV=$(ENV)
else
DATABASE_IN_VPC = $(MAKE) --no-print-directory database-run ENV=$(ENV)
endif

.PHONY: database-run
database-run: require-env ## database: run the kit in ENV's VPC on the platform executor (DBKIT_ARGS="users plan ...", "lag --json"); streams its log
	@test -n "$$DBKIT_ARGS" || { echo 'set DBKIT_ARGS, e.g. DBKIT_ARGS="lag --json"' >&2; exit 2; }
	$(MAKE) --no-print-directory execute ENV=$(ENV) STAGE=database

.PHONY: database-kit-env
database-kit-env: require-env infra-init database-setup ## database: run the kit here against ENV's database as the master (inside the VPC: the platform executor runs it; DBKIT_ARGS)
	$(TERRAFORM) -chdir=$(INFRA)/envs/$(ENV) output -json database > $(INFRA_BUILD)/database.json
	test -s $(INFRA_BUILD)/rds-ca-bundle.pem || curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o $(INFRA_BUILD)/rds-ca-bundle.pem '$(RDS_CA_BUNDLE_URL)'
	DATABASE_OUTPUTS=$(INFRA_BUILD)/database.json DATABASE_TLS_CA_FILE=$(INFRA_BUILD)/rds-ca-bundle.pem \
	  REGION=$(REGION_$(ENV)) ENV=$(ENV) DBKIT="$(DATABASE_DBKIT)" \
	  DATABASE_RUNS_URI="s3://$$(sed -n 's/^bucket *= *"\(.*\)"$$/\1/p' $(INFRA)/envs/$(ENV)/backend.tfbackend)/database-runs/$(ENV)/" \
	  bash database/executor/kit.sh

.PHONY: database-users-plan
database-users-plan: require-env ## database: what `dbkit users apply` would change in ENV (on the platform executor)
	$(DATABASE_IN_VPC) DBKIT_ARGS="users plan --users $(DATABASE_USERS_FILE) --env $(ENV)"

.PHONY: database-users-apply
database-users-apply: require-env ## database: create and alter ENV's database users and write their secrets (plan first in the log; a no-op when nothing changed)
	$(DATABASE_IN_VPC) DBKIT_ARGS="users apply --users $(DATABASE_USERS_FILE) --env $(ENV)"

.PHONY: database-rotate
database-rotate: require-env ## database: rotate DATABASE_USER's password in ENV (alternating users: the previous one stays valid until the next rotation)
	@test -n "$(DATABASE_USER)" || { echo "set DATABASE_USER to a logical user of $(DATABASE_USERS_FILE)" >&2; exit 2; }
	$(DATABASE_IN_VPC) DBKIT_ARGS="users rotate --users $(DATABASE_USERS_FILE) --env $(ENV) --user $(DATABASE_USER)"

.PHONY: database-lag
database-lag: require-env ## database: end-to-end replication lag of ENV's migration (heartbeat), as JSON lines
	$(DATABASE_IN_VPC) DBKIT_ARGS="lag --json $(LAG_ARGS)"

.PHONY: database-cutover
database-cutover: require-env ## database: the cutover state machine in ENV (CUTOVER_ARGS="--dry-run", "--abort", ...; docs/runbooks)
	$(DATABASE_IN_VPC) DBKIT_ARGS="cutover $(CUTOVER_ARGS)"

# After every terraform apply, before the first Helm release: the apply stage's buildspec
# runs make post-apply (bootstrap order: the users and their secrets exist before any app
# or migration hook reads them).
POST_APPLY_TARGETS += database-users-apply
