#!/usr/bin/env bash
# compose.yaml through whichever compose is installed: `docker compose` (Compose v2) or
# `podman-compose` (or `podman compose`). COMPOSE="<command>" picks one explicitly.
#
#   local/compose.sh up [--no-build]   start compose.yaml (project from its `name:`)
#   local/compose.sh down [--volumes]  stop it (--volumes also drops the database volume)
#   local/compose.sh test CMD...       run CMD against a MySQL of its own: a separate compose
#                                      project with a random name, port and password, removed
#                                      again (containers, network, volume) however CMD ends.
#                                      Sets TEST_DATABASE_URL where it is unset.
#
# The developer's own containers (make up) are never touched by `test`: it starts, waits for
# and removes only its own project. Passwords: up/down use build/local/compose.env (random,
# made once, mode 0600, git-ignored); test makes new ones per run.
set -euo pipefail
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { echo "local/compose.sh: $*" >&2; exit 2; }
# Seconds to wait for the database to report healthy (its first start initialises it).
WAIT_SECONDS="${COMPOSE_WAIT_SECONDS:-300}"

pick_compose() {
  if [[ -n "${COMPOSE:-}" ]]; then
    read -r -a COMPOSE_CMD <<<"$COMPOSE"
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE_CMD=(docker compose)
  elif command -v podman-compose >/dev/null 2>&1; then
    COMPOSE_CMD=(podman-compose)
  elif podman compose version >/dev/null 2>&1; then
    COMPOSE_CMD=(podman compose)
  else
    die "neither \`docker compose\` (Docker Compose v2) nor \`podman-compose\` is installed: install one of them (docs/local-development.md), or set TEST_DATABASE_URL to a MySQL server you run yourself"
  fi
  case "${COMPOSE_CMD[0]}" in
    podman*) ENGINE=podman ;;
    *) ENGINE=docker ;;
  esac
  command -v "$ENGINE" >/dev/null 2>&1 || die "${COMPOSE_CMD[*]} needs $ENGINE, which is not installed"
}

random_secret() {  # 32 characters of [A-Za-z0-9]: safe in URLs and shell words
  local out=""
  while [[ ${#out} -lt 32 ]]; do
    out+="$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  done
  echo "${out:0:32}"
}

dev_secrets() {  # build/local/compose.env: KEY=value lines, read (never sourced)
  local file=build/local/compose.env line
  if [[ ! -f "$file" ]]; then
    mkdir -p build/local
    printf 'MYSQL_ROOT_PASSWORD=%s\nMYSQL_APP_PASSWORD=%s\n' "$(random_secret)" "$(random_secret)" >"$file.tmp"
    mv "$file.tmp" "$file"
  fi
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^(MYSQL_ROOT_PASSWORD|MYSQL_APP_PASSWORD)=([A-Za-z0-9]+)$ ]] \
      || die "$file: unexpected line (delete the file to make new passwords)"
    export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done <"$file"
}

container_of() {  # project service -> the container's ID (compose labels, both tools set them)
  "$ENGINE" ps -a -q --filter "label=com.docker.compose.project=$1" \
    --filter "label=com.docker.compose.service=$2" | head -n 1
}

is_healthy() {  # container: podman without systemd runs no healthcheck timer, so run it here
  if [[ "$ENGINE" == podman ]]; then
    podman healthcheck run "$1" >/dev/null 2>&1
  else
    [[ "$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1")" == healthy ]]
  fi
}

wait_healthy() {  # project service
  local deadline=$((SECONDS + WAIT_SECONDS)) id="" running
  while ((SECONDS < deadline)); do
    id="$(container_of "$1" "$2")"
    if [[ -n "$id" ]]; then
      is_healthy "$id" && return 0
      running="$("$ENGINE" inspect --format '{{.State.Running}}' "$id" 2>/dev/null || echo false)"
      if [[ "$running" != true ]]; then
        "$ENGINE" logs "$id" 2>&1 | tail -n 40 >&2 || true
        die "the $2 container of $1 stopped before it was healthy (its log is above)"
      fi
    fi
    sleep 1
  done
  [[ -z "$id" ]] || "$ENGINE" logs "$id" 2>&1 | tail -n 40 >&2 || true
  die "the $2 service of $1 was not healthy within ${WAIT_SECONDS}s (COMPOSE_WAIT_SECONDS)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd_up() {
  dev_secrets
  "${COMPOSE_CMD[@]}" -f compose.yaml up -d "$@"
  wait_healthy "$PROJECT" db
  echo "up: MySQL on 127.0.0.1:${MYSQL_PORT:-3306} (root and app passwords: build/local/compose.env)"
}

cmd_down() {
  dev_secrets
  "${COMPOSE_CMD[@]}" -f compose.yaml down "$@"
}

cmd_test() {
  [[ $# -gt 0 ]] || die "usage: local/compose.sh test COMMAND..."
  local project port status=0
  project="${PROJECT}-test-$$-$RANDOM"
  port="$(free_port)"
  export MYSQL_ROOT_PASSWORD MYSQL_APP_PASSWORD MYSQL_PORT="$port"
  MYSQL_ROOT_PASSWORD="$(random_secret)"
  MYSQL_APP_PASSWORD="$(random_secret)"
  TEST_PROJECT="$project"
  trap 'test_cleanup' EXIT
  trap 'exit 130' INT TERM
  echo "test: starting MySQL (compose project $project, 127.0.0.1:$port) with ${COMPOSE_CMD[*]}"
  "${COMPOSE_CMD[@]}" -p "$project" -f compose.yaml up -d db >&2
  wait_healthy "$project" db
  local server="root:$MYSQL_ROOT_PASSWORD@127.0.0.1:$port"
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-mysql+pymysql://$server/}"
  "$@" || status=$?
  return "$status"
}

test_cleanup() {
  local status=$? label kind left=""
  local -a ids
  if [[ -n "${TEST_PROJECT:-}" ]]; then
    "${COMPOSE_CMD[@]}" -p "$TEST_PROJECT" -f compose.yaml down -v >/dev/null 2>&1 || true
    # Whatever the compose tool left (podman-compose 1.0 keeps the network): everything
    # labelled with this run's project, which only this run uses.
    label="label=com.docker.compose.project=$TEST_PROJECT"
    mapfile -t ids < <("$ENGINE" ps -a -q --filter "$label" 2>/dev/null || true)
    ((${#ids[@]} == 0)) || "$ENGINE" rm -f "${ids[@]}" >/dev/null 2>&1 || true
    for kind in volume network; do
      mapfile -t ids < <("$ENGINE" "$kind" ls -q --filter "$label" 2>/dev/null || true)
      ((${#ids[@]} == 0)) || "$ENGINE" "$kind" rm "${ids[@]}" >/dev/null 2>&1 || true
      left+="$("$ENGINE" "$kind" ls -q --filter "$label" 2>/dev/null || true)"
    done
    left+="$("$ENGINE" ps -a -q --filter "$label" 2>/dev/null || true)"
    [[ -z "$left" ]] || echo "local/compose.sh: could not remove all of compose project $TEST_PROJECT: $ENGINE ps -a, volume ls and network ls --filter $label list what is left" >&2
  fi
  exit "$status"
}

[[ -f compose.yaml ]] || die "compose.yaml is missing at the repository root"
PROJECT="$(sed -n 's/^name: *\([a-z0-9][a-z0-9_-]*\) *$/\1/p' compose.yaml | head -n 1)"
[[ -n "$PROJECT" ]] || die "compose.yaml names no project (name:)"
pick_compose
command="${1:-}"
shift || true
case "$command" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  test) cmd_test "$@" ;;
  *) die "usage: local/compose.sh up|down|test COMMAND..." ;;
esac
