#!/usr/bin/env bash
# The pull request's one plan comment (make plan-comment, GitHub Actions): every
# environment's plan summary (make plan-summary) in promotion order, in a single comment
# that each run edits instead of adding another. The comment is found by its first line (a
# hidden marker) among the comments of COMMENT_AUTHOR (the workflow token's bot), so a
# person's comment is never edited.
#   GITHUB_TOKEN       the job's token (pull-requests: write)
#   GITHUB_REPOSITORY  owner/name; PR_NUMBER  the pull request
#   PLAN_SUMMARIES     the folder of the downloaded summaries, plan-summary-<env>.md
set -euo pipefail
api_url="${GITHUB_API_URL:-https://api.github.com}"
author="${COMMENT_AUTHOR:-github-actions[bot]}"
dir="${PLAN_SUMMARIES:-build/plans}"
marker='<!-- platformgen: terraform plans -->'
[[ "${PR_NUMBER:-}" =~ ^[1-9][0-9]*$ ]] || { echo "set PR_NUMBER to the pull request's number" >&2; exit 2; }
[[ "${GITHUB_REPOSITORY:-}" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || { echo "set GITHUB_REPOSITORY to owner/name" >&2; exit 2; }
[[ -n "${GITHUB_TOKEN:-}" ]] || { echo "set GITHUB_TOKEN (pull-requests: write)" >&2; exit 2; }

body="$marker"$'\n'"### Terraform plans"$'\n\n'
for env in $ENVIRONMENTS; do
  summary="$dir/plan-summary-$env.md"
  if [[ -f "$summary" ]]; then
    body+="$(cat "$summary")"$'\n\n'
  else
    body+="- **$env**: no plan (its job did not run, or stopped before its summary)"$'\n\n'
  fi
done
if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
  body+="Updated by [run $GITHUB_RUN_ID](${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID)."$'\n'
fi
# GitHub refuses a comment longer than 65536 characters.
if ((${#body} > 65000)); then
  body="${body:0:65000}"$'\n\n'"(cut: the plans are longer than a comment can hold; see the jobs' logs)"
fi

api() {  # GitHub's answer on stdout; on an error status, the answer on stderr and failure
  local answer
  if ! answer="$(curl --silent --show-error --fail-with-body \
    --header "Authorization: Bearer $GITHUB_TOKEN" \
    --header "Accept: application/vnd.github+json" \
    --header "X-GitHub-Api-Version: 2022-11-28" "$@")"; then
    echo "plan-comment: GitHub answered: $answer" >&2
    return 1
  fi
  printf '%s\n' "$answer"
}
comments="$api_url/repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments"
id=""
page=1
while :; do
  batch="$(api "$comments?per_page=100&page=$page")"
  id="$($JQ -r --arg marker "$marker" --arg author "$author" \
    'first(.[] | select(.user.login == $author and (.body | startswith($marker))) | .id) // empty' <<<"$batch")"
  [[ -n "$id" || "$($JQ length <<<"$batch")" -lt 100 ]] && break
  page=$((page + 1))
done
payload="$($JQ -n --arg body "$body" '{body: $body}')"
if [[ -n "$id" ]]; then
  api --request PATCH --data "$payload" "$api_url/repos/$GITHUB_REPOSITORY/issues/comments/$id" >/dev/null
  echo "updated the plan comment $id on pull request $PR_NUMBER"
else
  api --request POST --data "$payload" "$comments" >/dev/null
  echo "posted the plan comment on pull request $PR_NUMBER"
fi
