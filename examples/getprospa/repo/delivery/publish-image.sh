#!/usr/bin/env bash
# Push one container app's image of this commit to the artifacts registry once, sign it and
# attach its SBOM (delivery/platform.mk, make publish). Writes $DELIVERY/image-<app>.json.
#   the image:     $REGISTRY/$PROJECT/<app>:<git sha>, IMMUTABLE tag; built by make build as
#                  $PROJECT/<app>:<git sha>
#   the signature: cosign with the KMS key $SIGNING_KEY (the private key never leaves KMS),
#                  no public transparency log (the images are private)
#   the SBOM:      syft, CycloneDX JSON, attached as a cosign attestation (type cyclonedx)
set -euo pipefail
app="$1"
sha="$(git rev-parse HEAD)"
repository="$REGISTRY/$PROJECT/$app"
bash delivery/tools.sh cosign syft
mkdir -p "$DELIVERY"
password="$($AWS ecr get-login-password --region "$ARTIFACTS_REGION")"
$CONTAINER login --username AWS --password-stdin "$REGISTRY" <<<"$password" >/dev/null
$COSIGN login --username AWS --password-stdin "$REGISTRY" <<<"$password" >/dev/null
registry_digest() {
  $AWS ecr describe-images --region "$ARTIFACTS_REGION" --repository-name "$PROJECT/$app" \
    --image-ids imageTag="$sha" --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true
}
digest="$(registry_digest)"
if [[ "$digest" == sha256:* ]]; then
  echo "$repository:$sha was published before (tags are immutable): not pushed again"
else
  $CONTAINER tag "$PROJECT/$app:$sha" "$repository:$sha"
  $CONTAINER push "$repository:$sha"
  digest="$(registry_digest)"
  [[ "$digest" == sha256:* ]] || { echo "$repository:$sha: the registry reports no digest after the push" >&2; exit 1; }
fi
image="$repository@$digest"
if $COSIGN verify --key "$SIGNING_KEY" --insecure-ignore-tlog=true "$image" >/dev/null 2>&1; then
  echo "$image is signed already"
else
  $SYFT scan "registry:$image" --output "cyclonedx-json=$DELIVERY/sbom-$app.cdx.json"
  $COSIGN sign --yes --tlog-upload=false --key "$SIGNING_KEY" "$image"
  $COSIGN attest --yes --tlog-upload=false --key "$SIGNING_KEY" --type cyclonedx \
    --predicate "$DELIVERY/sbom-$app.cdx.json" "$image"
fi
$JQ -n --arg repository "$repository" --arg digest "$digest" --arg tag "$sha" \
  '{repository: $repository, digest: $digest, tag: $tag}' > "$DELIVERY/image-$app.json"
echo "$app: $image"
