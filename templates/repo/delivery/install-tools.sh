#!/usr/bin/env bash
# Install the tools the in-VPC executors run (make plan apply addons, make deploy): terraform,
# helm 4, kubectl (the cluster's minor), cosign, syft and jq, at the versions pinned in
# delivery/tools.versions, each VERIFIED before it is installed into TOOLS_BIN_DIR:
#   terraform  HashiCorp's SHA256SUMS, GPG-signed by the key whose fingerprint is pinned below
#              (the procedure of HashiCorp's security page and its official Vault and Consul
#              images), then the archive against SHA256SUMS;
#   the others the SHA-256 pinned in delivery/tools.versions (each value's source is named there).
# Any mismatch refuses the whole run before that tool is installed; nothing unverified is
# ever written to TOOLS_BIN_DIR. Run by `make executor-tools` (the executors' install phase).
#
# Usage: TOOLS_BIN_DIR=<dir on PATH> KUBERNETES_VERSION=<minor> install-tools.sh [tool...]
set -euo pipefail
umask 022

HASHICORP_FINGERPRINT=C874011F0AB405110D02105534365D9472D7468F
HASHICORP_KEY_URL=https://www.hashicorp.com/.well-known/pgp-key.txt
ALL_TOOLS=(terraform helm kubectl cosign syft jq)

die() { echo "install-tools: $*" >&2; exit 2; }

# Test-only overrides (tests/test_executor_tools.py): a loopback mirror and a throwaway key's
# fingerprint. The buildspecs never set them, the CI role may pass no such variable to the
# executors, and a CodeBuild build refuses them outright.
MIRROR="${INSTALL_TOOLS_TEST_MIRROR:-}"
if [[ -n "$MIRROR" || -n "${INSTALL_TOOLS_TEST_FINGERPRINT:-}" ]]; then
  [[ -z "${CODEBUILD_BUILD_ID:-}" ]] || die "INSTALL_TOOLS_TEST_* are for tests only; refused in a CodeBuild build"
  [[ "$MIRROR" =~ ^(http://127\.0\.0\.1:[0-9]+(/[A-Za-z0-9._-]+)*)?$ ]] || die "INSTALL_TOOLS_TEST_MIRROR must be http://127.0.0.1:<port>[/<path>]"
  HASHICORP_FINGERPRINT="${INSTALL_TOOLS_TEST_FINGERPRINT:-$HASHICORP_FINGERPRINT}"
fi

BIN_DIR="${TOOLS_BIN_DIR:-}"
[[ -n "$BIN_DIR" ]] || die "set TOOLS_BIN_DIR to the directory the tools go to (one on PATH, e.g. /usr/local/bin)"
VERSIONS_FILE="${TOOLS_VERSIONS_FILE:-$(dirname "${BASH_SOURCE[0]}")/tools.versions}"
[[ -f "$VERSIONS_FILE" ]] || die "$VERSIONS_FILE not found"
for cmd in curl sha256sum tar unzip gpg; do
  command -v "$cmd" >/dev/null || die "$cmd is required to download and verify the tools"
done

# tools.versions: KEY=value lines and comments; parsed, never sourced.
declare -A PIN=()
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  [[ "$line" =~ ^([A-Za-z0-9_.]+)=([A-Za-z0-9_.-]+)$ ]] || die "$VERSIONS_FILE: not KEY=value: $line"
  PIN["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
done <"$VERSIONS_FILE"
pin() { [[ -n "${PIN[$1]:-}" ]] || die "$VERSIONS_FILE pins no $1${2:+: $2}"; echo "${PIN[$1]}"; }

case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) die "no tools are pinned for the architecture $(uname -m) (linux amd64 and arm64 are)" ;;
esac
[[ "$(uname -s)" == Linux ]] || die "the executors' tools are pinned for Linux only, not $(uname -s)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$BIN_DIR"

fetch() {  # url file: HTTPS only (the loopback mirror in tests)
  local url="$1"
  local proto=(--proto '=https' --proto-redir '=https')
  if [[ -n "$MIRROR" ]]; then
    url="$MIRROR/${url#https://}"
    proto=(--proto '=http')
  fi
  curl --fail --silent --show-error --location --retry 3 "${proto[@]}" -o "$2" "$url" \
    || die "could not download $1"
}

check_sha256() {  # file expected what
  local got
  [[ "$2" =~ ^[0-9a-f]{64}$ ]] || die "REFUSED $3: the pinned SHA-256 '$2' is not 64 hex digits"
  got="$(sha256sum "$1" | cut -d ' ' -f 1)"
  [[ "$got" == "$2" ]] || die "REFUSED $3: SHA-256 $got is not the pinned $2; nothing installed"
}

install_verified() {  # name staged-binary version: the staged binary reports the pinned version, then moves in
  local name="$1" staged="$2" want="${3#v}" out
  [[ -f "$staged" && ! -L "$staged" ]] || die "REFUSED $name: the verified archive holds no $name binary"
  chmod 0755 "$staged"
  case "$name" in
    terraform) out="$("$staged" version 2>&1 || true)" ;;
    helm) out="$("$staged" version --template '{{.Version}}' 2>&1 || true)" ;;
    kubectl) out="$("$staged" version --client 2>&1 || true)" ;;
    jq) out="$("$staged" --version 2>&1 || true)" ;;
    *) out="$("$staged" version 2>&1 || true)" ;;
  esac
  grep -qE "(^|[^0-9.])v?${want//./\\.}([^0-9.]|$)" <<<"$out" \
    || die "REFUSED $name: the verified binary does not report version $want: $(head -n 2 <<<"$out" | tr '\n' ' ')"
  install -m 0755 "$staged" "$BIN_DIR/.$name.new"
  mv -f "$BIN_DIR/.$name.new" "$BIN_DIR/$name"
  echo "installed $name $want ($BIN_DIR/$name), verified"
}

verify_hashicorp_sums() {  # sums sig: a valid signature by the pinned primary key, or refuse
  local gnupg="$WORK/gnupg" status
  mkdir -m 0700 "$gnupg"
  fetch "$HASHICORP_KEY_URL" "$WORK/hashicorp.asc"
  gpg --homedir "$gnupg" --batch --quiet --import "$WORK/hashicorp.asc" 2>/dev/null \
    || die "REFUSED terraform: $HASHICORP_KEY_URL holds no OpenPGP key"
  gpg --homedir "$gnupg" --batch --with-colons --fingerprint "$HASHICORP_FINGERPRINT" 2>/dev/null \
    | grep -q "^fpr:.*:$HASHICORP_FINGERPRINT:" \
    || die "REFUSED terraform: the key from $HASHICORP_KEY_URL is not $HASHICORP_FINGERPRINT"
  status="$(gpg --homedir "$gnupg" --batch --status-fd 1 --verify "$2" "$1" 2>/dev/null || true)"
  # VALIDSIG's last field is the signing key's primary-key fingerprint (GnuPG doc/DETAILS).
  awk -v fpr="$HASHICORP_FINGERPRINT" '$1 == "[GNUPG:]" && $2 == "VALIDSIG" && $NF == fpr { ok = 1 } END { exit !ok }' <<<"$status" \
    || die "REFUSED terraform: $(basename "$1") is not signed by $HASHICORP_FINGERPRINT; nothing installed"
}

install_terraform() {
  local v zip sums want
  v="$(pin TERRAFORM_VERSION)"
  zip="terraform_${v}_linux_${ARCH}.zip" sums="terraform_${v}_SHA256SUMS"
  fetch "https://releases.hashicorp.com/terraform/$v/$zip" "$WORK/$zip"
  fetch "https://releases.hashicorp.com/terraform/$v/$sums" "$WORK/$sums"
  fetch "https://releases.hashicorp.com/terraform/$v/$sums.sig" "$WORK/$sums.sig"
  verify_hashicorp_sums "$WORK/$sums" "$WORK/$sums.sig"
  want="$(awk -v f="$zip" '$2 == f { print $1 }' "$WORK/$sums")"
  [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "REFUSED terraform: the signed $sums lists no single $zip"
  check_sha256 "$WORK/$zip" "$want" "terraform ($zip against the signed $sums)"
  mkdir "$WORK/terraform"
  unzip -q "$WORK/$zip" terraform -d "$WORK/terraform"
  install_verified terraform "$WORK/terraform/terraform" "$v"
}

install_helm() {
  local v file sum
  v="$(pin HELM_VERSION)"
  sum="$(pin "HELM_SHA256_linux_$ARCH")"
  [[ "$v" == v4.* ]] || die "helm/platform.mk requires helm 4; $VERSIONS_FILE pins $v"
  file="helm-$v-linux-$ARCH.tar.gz"
  fetch "https://get.helm.sh/$file" "$WORK/$file"
  check_sha256 "$WORK/$file" "$sum" "helm ($file)"
  tar -xzf "$WORK/$file" -C "$WORK" "linux-$ARCH/helm"
  install_verified helm "$WORK/linux-$ARCH/helm" "$v"
}

install_kubectl() {
  local minor="${KUBERNETES_VERSION:-}" v sum
  [[ "$minor" =~ ^1\.[0-9]+$ ]] || die "set KUBERNETES_VERSION to the cluster's minor (platform.yaml kubernetes.version), e.g. 1.34"
  [[ -n "${PIN[KUBECTL_VERSION_$minor]:-}" ]] \
    || die "REFUSED kubectl: $VERSIONS_FILE pins no kubectl for Kubernetes $minor. Add KUBECTL_VERSION_$minor and KUBECTL_SHA256_<version>_linux_amd64/arm64 copied from https://dl.k8s.io/release/v<version>/bin/linux/<arch>/kubectl.sha256 (name the source)"
  v="${PIN[KUBECTL_VERSION_$minor]}"
  [[ "$v" == "$minor".* ]] || die "$VERSIONS_FILE: KUBECTL_VERSION_$minor=$v is not a $minor release"
  sum="$(pin "KUBECTL_SHA256_${v}_linux_$ARCH")"
  fetch "https://dl.k8s.io/release/v$v/bin/linux/$ARCH/kubectl" "$WORK/kubectl"
  check_sha256 "$WORK/kubectl" "$sum" "kubectl $v"
  install_verified kubectl "$WORK/kubectl" "$v"
}

install_cosign() {
  local v sum
  v="$(pin COSIGN_VERSION)"
  sum="$(pin "COSIGN_SHA256_linux_$ARCH")"
  fetch "https://github.com/sigstore/cosign/releases/download/$v/cosign-linux-$ARCH" "$WORK/cosign"
  check_sha256 "$WORK/cosign" "$sum" "cosign $v"
  install_verified cosign "$WORK/cosign" "$v"
}

install_syft() {
  local v file sum
  v="$(pin SYFT_VERSION)"
  sum="$(pin "SYFT_SHA256_linux_$ARCH")"
  file="syft_${v}_linux_$ARCH.tar.gz"
  fetch "https://github.com/anchore/syft/releases/download/v$v/$file" "$WORK/$file"
  check_sha256 "$WORK/$file" "$sum" "syft ($file)"
  mkdir "$WORK/syft"
  tar -xzf "$WORK/$file" -C "$WORK/syft" syft
  install_verified syft "$WORK/syft/syft" "$v"
}

install_jq() {
  local v sum
  v="$(pin JQ_VERSION)"
  sum="$(pin "JQ_SHA256_linux_$ARCH")"
  fetch "https://github.com/jqlang/jq/releases/download/jq-$v/jq-linux-$ARCH" "$WORK/jq"
  check_sha256 "$WORK/jq" "$sum" "jq $v"
  install_verified jq "$WORK/jq" "$v"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=("${ALL_TOOLS[@]}")
for tool in "${tools[@]}"; do
  case " ${ALL_TOOLS[*]} " in *" $tool "*) ;; *) die "unknown tool $tool (one of: ${ALL_TOOLS[*]})" ;; esac
done
for tool in "${tools[@]}"; do
  "install_$tool"
done

# The builds run the tools by name: each must resolve to the verified copy.
for tool in "${tools[@]}"; do
  [[ "$(command -v "$tool" || true)" == "$BIN_DIR/$tool" ]] \
    || die "$tool resolves to $(command -v "$tool" || echo nothing), not $BIN_DIR/$tool: put $BIN_DIR first on PATH"
done
