#!/usr/bin/env bash
# Print the image digest to deploy for one container app (delivery/platform.mk), or refuse.
#   IMAGE_DIGEST_<APP>   the app's digest (APP upper-cased, - as _)
#   IMAGE_DIGEST         the same, when the repository has one container app
#   RELEASE=<git sha>    the digest releases/<sha>.json recorded (make delivery-release fetched it)
# Deploys never take a tag: a tag can be moved, a digest names exactly one image.
set -euo pipefail
app="$1"
var="IMAGE_DIGEST_$(tr 'a-z-' 'A-Z_' <<<"$app")"
fail() { echo "make deploy: $*" >&2; exit 2; }
if [[ -n "${IMAGE_TAG:-}" ]]; then
  fail "IMAGE_TAG is refused: deploys are by digest, and a tag can be moved. Set $var=sha256:<64 hex> (build/release.json or s3://$ARTIFACTS_BUCKET/releases/<sha>.json has it) or RELEASE=<git sha>"
fi
read -r -a apps <<<"$CONTAINER_APPS"
digest="${!var:-}"
from="$var"
if [[ -z "$digest" && -n "${IMAGE_DIGEST:-}" ]]; then
  ((${#apps[@]} == 1)) || fail "IMAGE_DIGEST names no app: this repository has ${#apps[@]} container apps ($CONTAINER_APPS); set $var=sha256:... instead"
  digest="$IMAGE_DIGEST"
  from=IMAGE_DIGEST
fi
if [[ -z "$digest" && -n "${RELEASE:-}" ]]; then
  from="build/releases/$RELEASE.json"
  digest="$($JQ -r --arg app "$app" '.images[$app].digest // empty' "$from")"
  [[ -n "$digest" ]] || fail "$from records no image of $app"
fi
[[ -n "$digest" ]] || fail "no image digest for $app: set $var=sha256:<64 hex>$( ((${#apps[@]} == 1)) && echo ' (or IMAGE_DIGEST)'), or RELEASE=<git sha> to deploy what that commit published. A rollback is the previous digest."
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$from='$digest' is not an image digest (sha256:<64 hex>): deploys never take a tag"
printf '%s\n' "$digest"
