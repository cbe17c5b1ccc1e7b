# The Datadog agent's chart (observability.provider: datadog), installed by `make addons`.
# Upgrade deliberately: read the release notes, bump here, run `make addons ENV=dev`.
# The chart's values are checked against this version's values.schema.json by
# platformgen's tests.
DATADOG_REPO := https://helm.datadoghq.com
DATADOG_CHART_VERSION := 3.240.0
