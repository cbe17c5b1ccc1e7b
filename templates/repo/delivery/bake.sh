#!/usr/bin/env bash
# The bake period after a deploy (make bake ENV=): wait BAKE_MINUTES (environments.<env>.
# bakeMinutes), checking ENV's CloudWatch alarms every BAKE_INTERVAL seconds, and fail as
# soon as one is in ALARM. ENV's alarms are named $PROJECT-$ENV-... (docs/names.md); the
# names of environments that extend ENV's name ($PROJECT-$ENV-x-...) are not ENV's. With
# edge alarms, us-east-1 is checked too (CloudFront's web ACL alarm lives there).
set -euo pipefail
interval="${BAKE_INTERVAL:-60}"
regions=("$REGION")
[[ "$EDGE_ALARMS" == true && "$REGION" != us-east-1 ]] && regions+=(us-east-1)
deadline=$(($(date +%s) + BAKE_MINUTES * 60))
echo "bake $ENV: $BAKE_MINUTES minutes, alarms $ALARM_PREFIX* in ${regions[*]}"
while :; do
  firing=()
  for region in "${regions[@]}"; do
    while read -r name; do
      [[ -n "$name" ]] || continue
      other=false
      for prefix in $OTHER_ALARM_PREFIXES; do [[ "$name" == "$prefix"* ]] && other=true; done
      $other || firing+=("$name ($region)")
    done < <($AWS cloudwatch describe-alarms --region "$region" --alarm-name-prefix "$ALARM_PREFIX" \
      --state-value ALARM --alarm-types MetricAlarm CompositeAlarm --output json \
      | $JQ -r '(.MetricAlarms + .CompositeAlarms)[]? | select(.StateValue == "ALARM") | .AlarmName')
  done
  if ((${#firing[@]})); then
    printf 'bake %s failed: in ALARM: %s\n' "$ENV" "${firing[*]}" >&2
    exit 1
  fi
  now=$(date +%s)
  ((now < deadline)) || { echo "bake $ENV: no alarm in $BAKE_MINUTES minutes"; exit 0; }
  sleep $((deadline - now < interval ? deadline - now : interval))
done
