#!/usr/bin/env bash
# Check that a tool is installed at the version pinned in delivery/tools.versions.
#   cosign, syft       run in the generated CI and the executors (which install them first:
#                      make executor-tools); another version is refused.
#   terraform, helm    run by local targets too (make lint, make test): missing is refused and
#                      names the pinned version and `make tools`, which installs exactly it
#                      (checksum-verified) into .tools/bin; another version is a warning.
set -euo pipefail
check() {  # name command version install-hint [warn]
  local name="$1" cmd="$2" want="${3#v}" got
  command -v "$cmd" >/dev/null || { echo "$name $3 is required and not installed: $4" >&2; exit 2; }
  got="$("$cmd" version 2>&1 || true)"
  if ! grep -qE "(^|[^0-9.])v?${want//./\\.}([^0-9.]|$)" <<<"$got"; then
    if [[ "${5:-}" == warn ]]; then
      echo "warning: $name $3 is pinned (delivery/tools.versions), found: $(head -n 1 <<<"$got"); $4" >&2
      return 0
    fi
    echo "$name $3 is required, found: $(head -n 3 <<<"$got" | tr '\n' ' ')" >&2
    exit 2
  fi
}
for tool in "$@"; do
  case "$tool" in
    cosign) check cosign "$COSIGN" "$COSIGN_VERSION" "https://github.com/sigstore/cosign/releases/tag/$COSIGN_VERSION (GitHub: sigstore/cosign-installer with cosign-release: $COSIGN_VERSION)" ;;
    syft) check syft "$SYFT" "$SYFT_VERSION" "https://github.com/anchore/syft/releases/tag/v$SYFT_VERSION" ;;
    terraform) check terraform "$TERRAFORM" "$TERRAFORM_VERSION" "make tools installs it (verified) into .tools/bin" warn ;;
    helm) check helm "$HELM" "$HELM_VERSION" "make tools installs it (verified) into .tools/bin" warn ;;
    *) echo "tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
done
