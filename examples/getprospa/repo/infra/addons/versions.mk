# Pinned Helm charts of the cluster controllers. Upgrade deliberately: read the
# release notes, bump here, run `make deploy ENV=dev`, then promote. Renovate proposes the
# bumps (renovate.json reads the `# renovate:` comments); it moves Karpenter's digest with
# its version, but not metrics-server's archive digest (the Helm datasource has none): that
# pull request fails `make addons` until a person records the new digest, as below.
ALB_CONTROLLER_REPO := https://aws.github.io/eks-charts
# renovate: datasource=helm depName=aws-load-balancer-controller registryUrl=https://aws.github.io/eks-charts
ALB_CONTROLLER_CHART_VERSION := 1.13.3
EXTERNAL_SECRETS_REPO := https://charts.external-secrets.io
# renovate: datasource=helm depName=external-secrets registryUrl=https://charts.external-secrets.io
EXTERNAL_SECRETS_CHART_VERSION := 0.18.2
# Charts that platformgen cannot render offline are pinned by version AND digest:
# `make infra-addons` pulls each into build/<env>/charts and refuses it unless its digest
# is the one here (infra/docs/adr/0006-node-autoscaling.md).
# metrics-server: the sha256 of the chart archive, as the repository's index.yaml lists it.
METRICS_SERVER_REPO := https://kubernetes-sigs.github.io/metrics-server/
# renovate: datasource=helm depName=metrics-server registryUrl=https://kubernetes-sigs.github.io/metrics-server/
METRICS_SERVER_CHART_VERSION := 3.13.1
METRICS_SERVER_CHART_DIGEST := sha256:084e6edb680cf4e2acc30bd496568c53fdf663cbacf6e17876b25785c35b7a13
# Karpenter: an OCI chart (public ECR); the digest of its manifest, as `helm pull` prints it.
KARPENTER_CHART := oci://public.ecr.aws/karpenter/karpenter
# renovate: datasource=docker depName=public.ecr.aws/karpenter/karpenter
KARPENTER_CHART_VERSION := 1.10.0
KARPENTER_CHART_DIGEST := sha256:199866c04a14b6769c9d98fe9647a861cd49f296b35b8dcc585650e0d4d27f04
