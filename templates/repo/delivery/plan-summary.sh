#!/usr/bin/env bash
# The pull request's view of one plan (make plan-summary ENV=, after make plan ENV=):
# writes build/$ENV/plan-summary-$ENV.md, a collapsed Markdown section with terraform's headline
# ("Plan: 1 to add, ..." or "No changes.") and the plan as text. With no saved plan (the plan
# failed), the section says so. make plan-comment puts every environment's section into the
# pull request's one plan comment. Terraform prints sensitive values as (sensitive value).
set -euo pipefail
limit="${PLAN_SUMMARY_LIMIT:-15000}"
dir="build/$ENV"
plan="$dir/infra.tfplan"
out="$dir/plan-summary-$ENV.md"
mkdir -p "$dir"
if [[ -f "$plan" ]] && text="$($TERRAFORM -chdir="$TERRAFORM_ENV_DIR" show -no-color "$PWD/$plan" 2>&1)"; then
  headline="$(grep -E '^(Plan: |No changes\.)' <<<"$text" | tail -n 1 || true)"
  headline="${headline:-planned}"
else
  text="${text:-no saved plan: make plan ENV=$ENV stopped before saving one}"
  headline="**failed**: see the job's log"
fi
if ((${#text} > limit)); then
  text="${text:0:limit}"$'\n'"... (cut at $limit characters: the whole plan is in the job's log)"
fi
# A fence longer than any run of backticks in the plan, so the plan cannot end it.
fence='```'
while [[ "$text" == *"$fence"* ]]; do fence+='`'; done
printf '<details><summary><b>%s</b>: %s</summary>\n\n%stext\n%s\n%s\n\n</details>\n' \
  "$ENV" "$headline" "$fence" "$text" "$fence" >"$out"
echo "wrote $out: $headline"
