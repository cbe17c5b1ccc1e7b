#!/usr/bin/env bash
# Deploy one static web app to ENV (make deploy RELEASE=<sha>): copy the files the release
# recorded, check their tree digest, sync them to the app's bucket (deleting what the
# release does not have) and invalidate the app's path in CloudFront. The bucket and the
# distribution come from the environment root's static_sites output.
set -euo pipefail
app="$1"
if [[ -z "${RELEASE:-}" ]]; then
  if env | grep -qE '^IMAGE_DIGEST(_[A-Z0-9_]+)?='; then
    echo "$app (static): not deployed (image digests given, no RELEASE=<git sha>); its current files stay" >&2
    exit 0
  fi
  echo "make deploy: set RELEASE=<git sha> to deploy the static files that commit published ($app)" >&2
  exit 2
fi
manifest="build/releases/$RELEASE.json"
source="$($JQ -r --arg app "$app" '.static[$app].source // empty' "$manifest")"
want="$($JQ -r --arg app "$app" '.static[$app].sha256 // empty' "$manifest")"
[[ -n "$source" && -n "$want" ]] || { echo "$manifest records no static files of $app" >&2; exit 2; }
site="$(terraform -chdir="$TERRAFORM_ENV_DIR" output -json static_sites | $JQ -e --arg app "$app" '.[$app]')" \
  || { echo "$TERRAFORM_ENV_DIR's static_sites output has no $app: run make apply ENV=$ENV first" >&2; exit 2; }
bucket="$($JQ -r .bucket <<<"$site")"
path="$($JQ -r .path <<<"$site")"
distribution="$($JQ -r .distributionId <<<"$site")"
files="build/static/$ENV/$app"
rm -rf "$files" && mkdir -p "$files"
$AWS s3 sync --quiet --no-progress --region "$ARTIFACTS_REGION" "$source" "$files"
got="$(bash delivery/tree-digest.sh "$files")"
[[ "$got" == "$want" ]] || { echo "$source: tree digest $got, the release recorded $want: refused" >&2; exit 1; }
if [[ "$path" == / ]]; then key_prefix="" paths=("/*"); else key_prefix="${path#/}/" paths=("$path" "$path/*"); fi
$AWS s3 sync --quiet --no-progress --delete "$files" "s3://$bucket/$key_prefix"
$AWS cloudfront create-invalidation --distribution-id "$distribution" --paths "${paths[@]}" \
  --query Invalidation.Id --output text
echo "$app: $RELEASE deployed to s3://$bucket/$key_prefix"
