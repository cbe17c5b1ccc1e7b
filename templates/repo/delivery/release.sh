#!/usr/bin/env bash
# The release manifest of one commit: what make publish pushed (image digests, static files)
# and where its source bundle is. One file, written once, read by every environment's deploy.
#   release.sh record   merge $DELIVERY/{image,static}-*.json into build/release.json
#   release.sh bundle   upload source/<sha>.zip and releases/<sha>.json to the artifact bucket
#   release.sh fetch    download releases/$RELEASE.json into build/releases/ (make deploy RELEASE=)
# Objects are written with If-None-Match: a second, different upload of a commit is refused.
set -euo pipefail
fail() { echo "release.sh: $*" >&2; exit 2; }
put_once() {  # file key
  local out
  if out="$($AWS s3api put-object --region "$ARTIFACTS_REGION" --bucket "$ARTIFACTS_BUCKET" --key "$2" --body "$1" --if-none-match '*' 2>&1)"; then
    echo "s3://$ARTIFACTS_BUCKET/$2 written"
  elif grep -q PreconditionFailed <<<"$out"; then
    $AWS s3 cp --quiet --region "$ARTIFACTS_REGION" "s3://$ARTIFACTS_BUCKET/$2" "$1.existing"
    cmp -s "$1" "$1.existing" || fail "s3://$ARTIFACTS_BUCKET/$2 exists with other content: a commit is released once"
    echo "s3://$ARTIFACTS_BUCKET/$2 exists with the same content"
  else
    echo "$out" >&2
    exit 1
  fi
}
case "${1:-}" in
  record)
    sha="$(git rev-parse HEAD)"
    images='{}' static='{}'
    for app in $CONTAINER_APPS; do
      file="$DELIVERY/image-$app.json"
      [[ -f "$file" ]] || fail "$file is missing: make publish pushes every container app"
      images="$($JQ --arg app "$app" --slurpfile v "$file" '. + {($app): $v[0]}' <<<"$images")"
    done
    for app in $STATIC_APPS; do
      file="$DELIVERY/static-$app.json"
      [[ -f "$file" ]] || fail "$file is missing: make publish uploads every static app"
      static="$($JQ --arg app "$app" --slurpfile v "$file" '. + {($app): $v[0]}' <<<"$static")"
    done
    $JQ -n --arg commit "$sha" --arg bundle "s3://$ARTIFACTS_BUCKET/source/$sha.zip" \
      --argjson images "$images" --argjson static "$static" \
      '{commit: $commit, source: $bundle, images: $images, static: $static}' > build/release.json
    cat build/release.json
    ;;
  bundle)
    sha="$(git rev-parse HEAD)"
    [[ -f build/release.json ]] || fail "build/release.json is missing: run make publish first"
    [[ "$($JQ -r .commit build/release.json)" == "$sha" ]] || fail "build/release.json is not of HEAD ($sha): run make publish again"
    git diff --quiet HEAD -- || echo "release.sh: the working tree has changes; the bundle is the commit $sha without them" >&2
    mkdir -p "$DELIVERY"
    git archive --format=zip --output "$DELIVERY/source-$sha.zip" HEAD
    put_once "$DELIVERY/source-$sha.zip" "source/$sha.zip"
    put_once build/release.json "releases/$sha.json"
    ;;
  fetch)
    [[ "$RELEASE" =~ ^[0-9a-f]{40}$ ]] || fail "RELEASE='$RELEASE' is not a full git commit SHA (40 hex)"
    mkdir -p build/releases
    target="build/releases/$RELEASE.json"
    [[ -f "$target" ]] || $AWS s3 cp --quiet --region "$ARTIFACTS_REGION" "s3://$ARTIFACTS_BUCKET/releases/$RELEASE.json" "$target.tmp"
    [[ -f "$target" ]] || mv "$target.tmp" "$target"
    [[ "$($JQ -r .commit "$target")" == "$RELEASE" ]] || fail "$target is not the release of $RELEASE"
    ;;
  *) fail "usage: release.sh record|bundle|fetch" ;;
esac
