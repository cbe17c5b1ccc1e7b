#!/usr/bin/env bash
# Upload one static web app's build of this commit to the artifact bucket once
# (static/<app>/<sha>/) and record its tree digest in $DELIVERY/static-<app>.json (make
# publish). Each environment's deploy copies exactly these files (delivery/deploy-static.sh).
set -euo pipefail
app="$1" dist="$2"
sha="$(git rev-parse HEAD)"
[[ -d "$dist" && -n "$(ls -A "$dist")" ]] || { echo "$dist is empty or missing: run make build first" >&2; exit 2; }
digest="$(bash delivery/tree-digest.sh "$dist")"
prefix="s3://$ARTIFACTS_BUCKET/static/$app/$sha/"
mkdir -p "$DELIVERY"
if [[ -n "$($AWS s3 ls --region "$ARTIFACTS_REGION" "$prefix" | head -n 1)" ]]; then
  rm -rf "$DELIVERY/static-check-$app" && mkdir -p "$DELIVERY/static-check-$app"
  $AWS s3 sync --quiet --region "$ARTIFACTS_REGION" "$prefix" "$DELIVERY/static-check-$app"
  [[ "$(bash delivery/tree-digest.sh "$DELIVERY/static-check-$app")" == "$digest" ]] \
    || { echo "$prefix holds another build of $sha: a commit is published once" >&2; exit 1; }
  echo "$prefix was published before with the same files"
else
  $AWS s3 sync --quiet --no-progress --region "$ARTIFACTS_REGION" "$dist" "$prefix"
fi
$JQ -n --arg source "$prefix" --arg sha256 "$digest" '{source: $source, sha256: $sha256}' \
  > "$DELIVERY/static-$app.json"
echo "$app: $prefix ($digest)"
