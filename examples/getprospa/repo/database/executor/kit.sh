#!/usr/bin/env bash
# The database kit against one environment's RDS, inside its VPC (make database-kit-env, run
# by the platform executor). The master's credentials come from its secret (break-glass:
# only the platform executor and people may read it) into the environment of the kit's
# process, never into a file or the log. DBKIT_ARGS is split on blanks without a shell
# (no quoting, globbing or substitution), and only the kit's own commands are accepted.
#
# In the migration's target environment (database/dbkit.json: migration.targetEnvironment),
# lag, cutover, preflight, verify and schema also get the DigitalOcean source: its host,
# port and schema from the spec, user and password from the migration's source secret
# (spec migration.source.passwordSecret, {username,password,host,port}), TLS per the spec
# (verify-full: VERIFY_IDENTITY against the committed CA). Same rule: environment only.
#
# A CodeBuild build is ephemeral, and a cutover's journal and report must outlive it
# (--abort and --resume run in a later build): every command but `users` works in
# DATABASE_RUNS_DIR (database/.runs), restored from DATABASE_RUNS_URI (the environment's
# state bucket, s3://<project>-<env>-tfstate-<account>/database-runs/<env>/) before the
# kit runs and saved back after it, also when it fails or is stopped, and every 5 seconds
# while a cutover runs.
# shellcheck disable=SC2016,SC2317 # jq programs are single-quoted; finish runs from the EXIT trap
set -euo pipefail
set -f
: "${DATABASE_OUTPUTS:?}" "${DATABASE_TLS_CA_FILE:?}" "${REGION:?}" "${DBKIT:?}" "${ENV:?}" "${DATABASE_RUNS_URI:?}"
AWS="${AWS:-aws}"
JQ="${JQ:-jq}"
DBKIT_CONFIG="${DBKIT_CONFIG:-database/dbkit.json}"
DATABASE_RUNS_DIR="${DATABASE_RUNS_DIR:-database/.runs}"
SAVE_EVERY="${SAVE_EVERY:-5}"

[[ "${DBKIT_ARGS:-}" != *$'\n'* ]] || { echo "database-kit-env: DBKIT_ARGS holds a line break" >&2; exit 2; }
read -r -a args <<<"${DBKIT_ARGS:-}"
(( ${#args[@]} > 0 )) || { echo "database-kit-env: DBKIT_ARGS is empty" >&2; exit 2; }
case "${args[0]}" in
  users | lag | cutover | preflight | verify | schema) ;;
  *) echo "database-kit-env: '${args[0]}' is not a kit command this executor runs (users, lag, cutover, preflight, verify, schema)" >&2; exit 2 ;;
esac
for arg in "${args[@]}"; do
  case "$arg" in
    --switch-command | --switch-command=* | --resync-command | --resync-command=*)
      echo "database-kit-env: ${arg%%=*} runs a command as the platform executor; switch the secrets with --switch-user or --switch-secret (External Secrets refreshes them within its refreshInterval)" >&2
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
# The DigitalOcean source, only where the migration lands and only for the commands that read it.
case "${args[0]}" in
  lag | cutover | preflight | verify | schema)
    if [[ "$($JQ -r --arg env "$ENV" 'if (.migration | type) == "object" and .migration.targetEnvironment == $env then "yes" else "no" end' "$DBKIT_CONFIG")" == yes ]]; then
      src_host="$($JQ -r .migration.source.host "$DBKIT_CONFIG")"
      src_port="$($JQ -r .migration.source.port "$DBKIT_CONFIG")"
      src_db="$($JQ -r '.migration.source.database | @uri' "$DBKIT_CONFIG")"
      src_tls="$($JQ -r .migration.source.tls "$DBKIT_CONFIG")"
      src_secret_name="$($JQ -r .migration.source.passwordSecret "$DBKIT_CONFIG")"
      src_secret="$($AWS secretsmanager get-secret-value --region "$REGION" --secret-id "$src_secret_name" --query SecretString --output text)"
      src_user="$($JQ -r --arg fallback "$($JQ -r .migration.source.user "$DBKIT_CONFIG")" '(.username // $fallback) | @uri' <<<"$src_secret")"
      case "$src_tls" in
        verify-full | verify-ca)
          src_ca_file="$($JQ -r .migration.source.caCertificate "$DBKIT_CONFIG")"
          [[ -f "$src_ca_file" ]] || { echo "database-kit-env: DigitalOcean's CA $src_ca_file (migration.source.caCertificate) is not in the repository; commit it" >&2; exit 2; }
          src_ca="$(cd "$(dirname "$src_ca_file")" && pwd)/$(basename "$src_ca_file")"
          src_mode="VERIFY_IDENTITY"
          [[ "$src_tls" == verify-full ]] || src_mode="VERIFY_CA"
          src_tls_query="ssl-mode=$src_mode&ssl-ca=$src_ca" ;;
        require) src_tls_query="ssl-mode=REQUIRED" ;;
        *) echo "database-kit-env: migration.source.tls '$src_tls' is not verify-full, verify-ca or require" >&2; exit 2 ;;
      esac
      export DBKIT_SOURCE_DSN="${DBKIT_SOURCE_DSN:-mysql://$src_user@$src_host:$src_port/$src_db?$src_tls_query}"
      DBKIT_SOURCE_PASSWORD="$($JQ -r .password <<<"$src_secret")"
      export DBKIT_SOURCE_PASSWORD
      unset src_secret
    fi ;;
esac
export AWS_REGION="$REGION"

if [[ "${args[0]}" == users ]]; then
  # shellcheck disable=SC2086 # DBKIT is a command line of words (env VAR=... python -m ...)
  exec env $DBKIT "${args[@]}"
fi

runs_uri="${DATABASE_RUNS_URI%/}/"
save_runs() { $AWS s3 sync --region "$REGION" --only-show-errors "$DATABASE_RUNS_DIR/" "$runs_uri"; }
mkdir -p "$DATABASE_RUNS_DIR"
$AWS s3 sync --region "$REGION" --only-show-errors "$runs_uri" "$DATABASE_RUNS_DIR/"
echo "database-kit-env: journals and reports in $DATABASE_RUNS_DIR, kept at $runs_uri" >&2

saver=""
kit=""
finish() {
  local status=$?
  trap - EXIT INT TERM
  [[ -z "$saver" ]] || { kill "$saver" 2>/dev/null || true; wait "$saver" 2>/dev/null || true; }
  save_runs || { echo "database-kit-env: could not save $DATABASE_RUNS_DIR to $runs_uri" >&2; ((status)) || status=3; }
  exit "$status"
}
trap finish EXIT
# A stopped build (SIGTERM) or Ctrl-C reaches the kit as SIGTERM: it gives the source its
# writes back; its exit status is then this script's, after the last save.
trap '[[ -z "$kit" ]] || kill -TERM "$kit" 2>/dev/null || true' INT TERM
if [[ "${args[0]}" == cutover ]]; then
  # Its sleep is killed with it: an orphan would hold the build's output open.
  (
    nap=""
    trap '[[ -z "$nap" ]] || kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "$SAVE_EVERY" &
      nap=$!
      wait "$nap"
      save_runs || true
    done
  ) &
  saver=$!
fi
# shellcheck disable=SC2086 # DBKIT is a command line of words (env VAR=... python -m ...)
env $DBKIT "${args[@]}" &
kit=$!
status=0
wait "$kit" || status=$?
# A trapped signal interrupts wait: wait again for the kit's own exit.
while kill -0 "$kit" 2>/dev/null; do wait "$kit" || status=$?; done
exit "$status"
