# Pinned Helm charts of the cluster controllers. Upgrade deliberately: read the
# release notes, bump here, run `make deploy ENV=dev`, then promote.
ALB_CONTROLLER_REPO := https://aws.github.io/eks-charts
ALB_CONTROLLER_CHART_VERSION := 1.13.3
EXTERNAL_SECRETS_REPO := https://charts.external-secrets.io
EXTERNAL_SECRETS_CHART_VERSION := 0.18.2
