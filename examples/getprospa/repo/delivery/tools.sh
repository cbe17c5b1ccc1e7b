#!/usr/bin/env bash
# Check that cosign and syft are installed at the pinned versions (delivery/tools.versions).
# They run in the generated CI and the executors (which install them first: make executor-tools).
set -euo pipefail
check() {  # name command version install-hint
  local name="$1" cmd="$2" want="${3#v}" got
  command -v "$cmd" >/dev/null || { echo "$name $3 is required and not installed: $4" >&2; exit 2; }
  got="$("$cmd" version 2>&1 || true)"
  grep -qE "(^|[^0-9.])v?${want//./\\.}([^0-9.]|$)" <<<"$got" \
    || { echo "$name $3 is required, found: $(head -n 3 <<<"$got" | tr '\n' ' ')" >&2; exit 2; }
}
for tool in "$@"; do
  case "$tool" in
    cosign) check cosign "$COSIGN" "$COSIGN_VERSION" "https://github.com/sigstore/cosign/releases/tag/$COSIGN_VERSION (GitHub: sigstore/cosign-installer with cosign-release: $COSIGN_VERSION)" ;;
    syft) check syft "$SYFT" "$SYFT_VERSION" "https://github.com/anchore/syft/releases/tag/v$SYFT_VERSION" ;;
    *) echo "tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
done
