#!/usr/bin/env bash
# Run one environment's executor on this commit's source bundle (make execute ENV= STAGE=):
# the CodeBuild project $PROJECT-$ENV-$STAGE in the environment's private subnets, started
# by the CI role $PROJECT-$ENV-ci, which may only start, stop and read its executors. The
# build's log streams here; the exit status is the build's. The bundle (make bundle) pins
# the commit, so the environment's account needs no Git credentials.
# The projects have no CodeBuild source: their buildspec fetches s3://<artifacts
# bucket>/source/$SOURCE_COMMIT.zip from the artifacts region itself. Overrides:
# SOURCE_COMMIT (this commit, or the RELEASE given); for STAGE=deploy also RELEASE and any
# IMAGE_DIGEST or IMAGE_DIGEST_<APP> set here (a rollback through CI); STAGE=database runs
# the platform executor (the apply project) with DBKIT_ARGS instead of plan/apply/addons:
# the database kit inside the VPC (make database-run). The CI role refuses any other
# variable and every source override.
set -euo pipefail
sha="$(git rev-parse HEAD)"
release="${RELEASE:-$sha}"
[[ "$release" =~ ^[0-9a-f]{40}$ ]] || { echo "execute: RELEASE='$release' is not a full git commit SHA" >&2; exit 2; }
project="$PROJECT-$ENV-$STAGE"
overrides=("name=SOURCE_COMMIT,value=$release,type=PLAINTEXT")
if [[ "$STAGE" == database ]]; then
  project="$PROJECT-$ENV-apply"
  [[ -n "${DBKIT_ARGS:-}" && "$DBKIT_ARGS" != *[,$'\n']* ]] || { echo "execute: STAGE=database needs DBKIT_ARGS (no commas or line breaks)" >&2; exit 2; }
  overrides+=("name=DBKIT_ARGS,value=$DBKIT_ARGS,type=PLAINTEXT")
fi
if [[ "$STAGE" == deploy ]]; then
  overrides+=("name=RELEASE,value=$release,type=PLAINTEXT")
  while IFS='=' read -r name value; do
    [[ "$value" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "execute: $name is not a digest (sha256:<64 hex>)" >&2; exit 2; }
    overrides+=("name=$name,value=$value,type=PLAINTEXT")
  done < <(env | grep -E '^IMAGE_DIGEST(_[A-Z0-9_]+)?=' || true)
fi
build_id="$($AWS codebuild start-build --region "$REGION" --project-name "$project" \
  --environment-variables-override "${overrides[@]}" --query build.id --output text)"
echo "started $build_id"
trap '$AWS codebuild stop-build --region "$REGION" --id "$build_id" >/dev/null; echo "stopped $build_id" >&2' INT TERM
token=""
while :; do
  read -r status group stream < <($AWS codebuild batch-get-builds --region "$REGION" --ids "$build_id" \
    --query 'builds[0].[buildStatus, logs.groupName, logs.streamName]' --output text)
  if [[ "$group" != None && "$stream" != None ]]; then
    while :; do
      page="$($AWS logs get-log-events --region "$REGION" --log-group-name "$group" --log-stream-name "$stream" \
        --start-from-head ${token:+--next-token "$token"} --output json 2>/dev/null || echo '{}')"
      $JQ -j '.events[]?.message' <<<"$page"
      next="$($JQ -r '.nextForwardToken // empty' <<<"$page")"
      [[ -z "$next" || "$next" == "$token" ]] && break
      token="$next"
    done
  fi
  case "$status" in
    IN_PROGRESS) sleep 10 ;;
    SUCCEEDED) echo "$project: $build_id succeeded"; exit 0 ;;
    *) echo "$project: $build_id ended $status" >&2; exit 1 ;;
  esac
done
