# The Datadog agent's chart (observability.provider: datadog), installed by `make addons`.
# Upgrade deliberately: read the release notes, bump here, run `make addons ENV=dev`.
# The chart's values are checked against this version's values.schema.json by
# platformgen's tests.
DATADOG_REPO := https://helm.datadoghq.com
# renovate: datasource=helm depName=datadog registryUrl=https://helm.datadoghq.com
DATADOG_CHART_VERSION := 3.240.0
# The chart archive's sha256, which `make addons` checks before installing anything.
# platformgen could not reach helm.datadoghq.com to record it: until a person records
# it here, `make addons` refuses to install the agent. Record it once:
#   helm pull datadog --repo https://helm.datadoghq.com --version <version> && sha256sum datadog-<version>.tgz
# compare it with a second machine's pull, and write sha256:<that> below.
DATADOG_CHART_DIGEST :=
