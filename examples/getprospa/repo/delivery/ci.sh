#!/usr/bin/env bash
# What a CI step needs before its make targets, for CI systems whose runners bring nothing
# (Bitbucket Pipelines; GitHub's runners and the executors have the AWS CLI already):
#
#   tools                 the AWS CLI from delivery/ci-requirements.lock (every wheel
#                         hash-checked) into $CI_DIR/awscli, linked into TOOLS_BIN_DIR
#   assume-role           this step's OIDC token (BITBUCKET_STEP_OIDC_TOKEN, `oidc: true`) to
#                         $CI_DIR/aws/token and an AWS config whose default profile assumes
#                         ROLE_ARN with it (role_arn + web_identity_token_file). The root
#                         Makefile points AWS_CONFIG_FILE at it for every later make run of
#                         the step, so the AWS CLI, Terraform and cosign's KMS signer all use it.
#   wait-ports PORTS=...  wait until each 127.0.0.1 port accepts connections (service
#                         containers start with the step, not before it), at most WAIT_SECONDS
#
# Atlassian's procedure, which this follows: "Deploy on AWS using Bitbucket Pipelines
# OpenID Connect" (https://support.atlassian.com/bitbucket-cloud/docs/deploy-on-aws-using-bitbucket-pipelines-openid-connect/):
# the token in a file named by AWS_WEB_IDENTITY_TOKEN_FILE, with AWS_ROLE_ARN. A config
# profile carries the same two settings (role_arn, web_identity_token_file) to every later
# process of the step, which environment variables exported here could not.
set -euo pipefail
umask 077

die() { echo "ci.sh: $*" >&2; exit 2; }
: "${CI_DIR:?set CI_DIR}"

case "${1:-}" in
  tools)
    : "${TOOLS_BIN_DIR:?set TOOLS_BIN_DIR}"
    umask 022
    if [[ ! -x "$CI_DIR/awscli/bin/aws" ]]; then
      python3 -m venv "$CI_DIR/awscli"
      "$CI_DIR/awscli/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        --require-hashes --only-binary :all: -r delivery/ci-requirements.lock
    fi
    mkdir -p "$TOOLS_BIN_DIR"
    ln -sf "$CI_DIR/awscli/bin/aws" "$TOOLS_BIN_DIR/aws"
    "$TOOLS_BIN_DIR/aws" --version
    ;;
  assume-role)
    [[ -n "${BITBUCKET_STEP_OIDC_TOKEN:-}" ]] \
      || die "no BITBUCKET_STEP_OIDC_TOKEN: run this in a Bitbucket Pipelines step with oidc: true"
    [[ "${ROLE_ARN:-}" =~ ^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$ ]] \
      || die "ROLE_ARN='${ROLE_ARN:-}' is not an IAM role ARN"
    [[ "${REGION:-}" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] || die "REGION='${REGION:-}' is not an AWS region"
    mkdir -p "$CI_DIR/aws"
    printf '%s' "$BITBUCKET_STEP_OIDC_TOKEN" >"$CI_DIR/aws/token"
    session="bitbucket-${BITBUCKET_BUILD_NUMBER:-0}"
    {
      echo "[default]"
      echo "role_arn = $ROLE_ARN"
      echo "web_identity_token_file = $CI_DIR/aws/token"
      echo "role_session_name = ${session//[^A-Za-z0-9+=,.@_-]/-}"
      echo "region = $REGION"
    } >"$CI_DIR/aws/config"
    echo "AWS: the next make runs of this step assume $ROLE_ARN ($REGION)"
    ;;
  wait-ports)
    deadline=$((SECONDS + ${WAIT_SECONDS:-120}))
    for port in ${PORTS:?set PORTS}; do
      [[ "$port" =~ ^[0-9]{1,5}$ ]] || die "PORTS: '$port' is not a port"
      until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        ((SECONDS < deadline)) || die "nothing listens on 127.0.0.1:$port after ${WAIT_SECONDS:-120} s"
        sleep 2
      done
      echo "127.0.0.1:$port accepts connections"
    done
    ;;
  *) die "usage: ci.sh tools | assume-role | wait-ports" ;;
esac
