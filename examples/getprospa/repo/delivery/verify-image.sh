#!/usr/bin/env bash
# Refuse to deploy an image whose signature does not verify against the artifacts account's
# KMS signing key (make deploy runs this before helm). Prints the image's git SHA tag.
set -euo pipefail
repository="$1" digest="$2"
bash delivery/tools.sh cosign
registry="${repository%%/*}"
$AWS ecr get-login-password --region "$ARTIFACTS_REGION" \
  | $COSIGN login --username AWS --password-stdin "$registry" >/dev/null
$COSIGN verify --key "$SIGNING_KEY" --insecure-ignore-tlog=true "$repository@$digest" >/dev/null \
  || { echo "make deploy: $repository@$digest has no valid signature of $SIGNING_KEY: refused" >&2; exit 1; }
tag="$($AWS ecr describe-images --region "$ARTIFACTS_REGION" --repository-name "${repository#*/}" \
  --image-ids imageDigest="$digest" --query 'imageDetails[0].imageTags[0]' --output text)"
[[ "$tag" =~ ^[0-9a-f]{40}$ ]] || { echo "make deploy: $repository@$digest carries no git SHA tag (found '$tag')" >&2; exit 1; }
printf '%s\n' "$tag"
