#!/usr/bin/env bash
# Reviews a Terraform plan with `ddb-flatten review-plan`, posts the review as ONE comment on the
# pull request (found again by a hidden marker and updated on every push, never duplicated), adds it
# to the job summary, and exits with the review's exit code: 3 when the review does not vouch for the
# plan (a stateful resource destroyed, replaced or deleted outside Terraform that is not allowed, a
# plan Terraform could not finish, a failed check), so the check fails.
#
#   plan-review.sh PLAN [review-plan options, e.g. --allow-replace ADDRESS]
#
# PLAN: the JSON of `terraform show -json tfplan` (or the binary plan file, read with terraform).
# Environment:
#   PR_NUMBER            the pull request to comment on; unset: no comment, only the review file
#   GITHUB_REPOSITORY    owner/repo (set by GitHub Actions)
#   GH_TOKEN             token for `gh api` with pull-requests: write (github.token will do)
#   ALLOW_REPLACE_FILE   optional file of addresses to allow, one per line (# comments); commit it in
#                        the PR that replaces the resource on purpose, so reviewers see it
#   DDB_FLATTEN          the command to run (default: npx --no-install ddb-flatten)
#   REVIEW_OUT           where the review is written (default: review.md)
set -uo pipefail

plan="${1:?usage: plan-review.sh PLAN [--allow-replace ADDRESS ...]}"
shift
marker='<!-- ddb-flatten review-plan -->'
out="${REVIEW_OUT:-review.md}"
read -r -a command <<< "${DDB_FLATTEN:-npx --no-install ddb-flatten}"

args=("$@")
if [ -n "${ALLOW_REPLACE_FILE:-}" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%%#*}"
    line="$(printf '%s' "$line" | tr -d '[:space:]')"
    [ -n "$line" ] && args+=(--allow-replace "$line")
  done < "$ALLOW_REPLACE_FILE"
fi

"${command[@]}" review-plan "$plan" "${args[@]}" > "$out"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
  echo "plan-review: ddb-flatten review-plan failed (exit $status); no comment posted" >&2
  exit "$status"
fi
# The marker is how the next run finds this comment; review-plan writes it first, keep it there.
if ! grep -qF "$marker" "$out"; then
  { printf '%s\n' "$marker"; cat "$out"; } > "$out.tmp" && mv "$out.tmp" "$out"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out" >> "$GITHUB_STEP_SUMMARY"
fi

if [ -n "${PR_NUMBER:-}" ]; then
  repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/repo}"
  # The review's earlier comment, if any: the first one holding the marker.
  id="$(gh api --paginate "repos/$repo/issues/$PR_NUMBER/comments" --jq ".[] | select(.body | contains(\"$marker\")) | .id" | head -n 1)"
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$out" > /dev/null || { echo "plan-review: could not update comment $id" >&2; exit 1; }
    echo "plan-review: updated the review comment ($id) on #$PR_NUMBER"
  else
    gh api --method POST "repos/$repo/issues/$PR_NUMBER/comments" -F "body=@$out" > /dev/null || { echo "plan-review: could not comment on #$PR_NUMBER" >&2; exit 1; }
    echo "plan-review: posted the review on #$PR_NUMBER"
  fi
fi

if [ "$status" -eq 3 ]; then
  echo "plan-review: the review does not vouch for this plan (data at risk, a plan Terraform could not finish, or a failed check: see its heading); allow a destroy or a deletion outside Terraform on purpose with --allow-replace" >&2
fi
exit "$status"
