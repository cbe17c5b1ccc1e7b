#!/usr/bin/env bash
# The database kit against one environment's RDS, inside its VPC (make database-kit-env, run
# by the platform executor). The master's credentials come from its secret (break-glass:
# only the platform executor and people may read it) into the environment of the kit's
# process, never into a file or the log. DBKIT_ARGS is split on blanks without a shell
# (no quoting, globbing or substitution), and only the kit's own commands are accepted.
set -euo pipefail
set -f
: "${DATABASE_OUTPUTS:?}" "${DATABASE_TLS_CA_FILE:?}" "${REGION:?}" "${DBKIT:?}"
AWS="${AWS:-aws}"
JQ="${JQ:-jq}"

[[ "${DBKIT_ARGS:-}" != *$'\n'* ]] || { echo "database-kit-env: DBKIT_ARGS holds a line break" >&2; exit 2; }
read -r -a args <<<"${DBKIT_ARGS:-}"
(( ${#args[@]} > 0 )) || { echo "database-kit-env: DBKIT_ARGS is empty" >&2; exit 2; }
case "${args[0]}" in
  users | lag | cutover | preflight | verify | schema) ;;
  *) echo "database-kit-env: '${args[0]}' is not a kit command this executor runs (users, lag, cutover, preflight, verify, schema)" >&2; exit 2 ;;
esac
for arg in "${args[@]}"; do
  case "$arg" in
    --switch-command | --switch-command=*)
      echo "database-kit-env: --switch-command runs a command as the platform executor; switch the secret with --switch-secret" >&2
      exit 2 ;;
  esac
done

[[ "$($JQ -r 'type' "$DATABASE_OUTPUTS")" == object ]] || { echo "database-kit-env: this environment has no database (terraform output database is null)" >&2; exit 2; }
host="$($JQ -r .host "$DATABASE_OUTPUTS")"
port="$($JQ -r .port "$DATABASE_OUTPUTS")"
dbname="$($JQ -r .dbname "$DATABASE_OUTPUTS")"
master_arn="$($JQ -r .masterSecretArn "$DATABASE_OUTPUTS")"
master="$($AWS secretsmanager get-secret-value --region "$REGION" --secret-id "$master_arn" --query SecretString --output text)"
user="$($JQ -r .username <<<"$master")"
ca="$(cd "$(dirname "$DATABASE_TLS_CA_FILE")" && pwd)/$(basename "$DATABASE_TLS_CA_FILE")"
dsn="mysql://$user@$host:$port/$dbname?ssl-mode=VERIFY_IDENTITY&ssl-ca=$ca"

# users: the master administers; the target of lag and cutover is RDS, as the master.
export DBKIT_ADMIN_DSN="${DBKIT_ADMIN_DSN:-$dsn}"
export DBKIT_TARGET_DSN="${DBKIT_TARGET_DSN:-$dsn}"
DBKIT_ADMIN_PASSWORD="$($JQ -r .password <<<"$master")"
export DBKIT_ADMIN_PASSWORD
export DBKIT_TARGET_PASSWORD="${DBKIT_TARGET_PASSWORD:-$DBKIT_ADMIN_PASSWORD}"
unset master
export AWS_REGION="$REGION"
# shellcheck disable=SC2086 # DBKIT is a command line of words (env VAR=... python -m ...)
exec env $DBKIT "${args[@]}"
