#!/usr/bin/env bash
# CI smoke test of the MovieLens recipe: runs `tools/recipes/movielens.sh
# --quick` into a fresh folder (a few users, tiny steps; about 15 minutes on
# 2 cores) and checks the shape of what it wrote:
#   - every held-out user of the run is accounted for by every writer (a
#     profile, or a line in the job's errors file) and by the update;
#   - build-sft wrote a report for both teachers and the judge decision is recorded;
#   - the evaluation report names every condition with accuracy and AUC for
#     both task forms, over exactly the held-out users' test tasks;
#   - the truthfulness report and the samples were written.
# Exit 0 when all hold, 1 with the failed checks listed otherwise.
# Usage: bash tools/recipes/movielens_quick_check.sh [RUN_DIR]
#        bash tools/recipes/movielens_quick_check.sh --existing RUN_DIR   (checks a finished run only)
set -euo pipefail
cd "$(dirname "$0")/../.."
existing=0
if [ "${1:-}" = --existing ]; then
  existing=1
  shift
fi
RUN=${1:-${RUN:-runs/movielens-quick-check}}
start=$(date +%s)
if [ "$existing" = 0 ]; then
  rm -rf "$RUN"
  mkdir -p "$(dirname "$RUN")"
  RUN=$RUN bash tools/recipes/movielens.sh --quick > "$RUN.log" 2>&1 || {
    tail -n 40 "$RUN.log" >&2
    echo "movielens quick check: the recipe failed (log: $RUN.log)" >&2
    exit 1
  }
fi
elapsed=$(($(date +%s) - start))

failures=()
check() {  # $1 description, then the command
  local what=$1
  shift
  if ! "$@" > /dev/null 2>&1; then failures+=("$what"); fi
}
users_in() { jq -r '.user_id' "$@" 2>/dev/null | sort -u; }

held_out=$(sort -u "$RUN/users_eval.txt")
n_held_out=$(echo "$held_out" | grep -c . || true)
check "held-out users listed" test "$n_held_out" -gt 0
for name in base sft rl streamed teacher; do
  file=$RUN/profiles_$name.jsonl
  errors=$file.errors.jsonl
  accounted=$( (users_in "$file"; [ -s "$errors" ] && users_in "$errors" || true) | sort -u)
  check "$name: every held-out user has a profile or an error line" test "$accounted" = "$held_out"
done
check "judge decision recorded" test -s "$RUN/judge.decision"
for source in rule local; do
  check "build-sft ($source) report" test -s "$RUN/build_sft_$source/report.json"
done
report=$RUN/eval/report.json
check "eval report.json" test -s "$report"
check "eval report.md" test -s "$RUN/eval/report.md"
tasks=$(grep -c . "$RUN/eval_test_tasks.jsonl" || true)
check "eval scored exactly the held-out users' test tasks" jq -e --argjson n "$tasks" '.tasks == $n' "$report"
check "eval tasks belong to held-out users only" \
  test "$(users_in "$RUN/eval_test_tasks.jsonl" | comm -23 - <(echo "$held_out") | wc -l)" -eq 0
for condition in "no profile" "raw history" "base SmolLM2" "SFT" "RL" "streamed (RL + update)" "rule teacher" \
  "control: another user's RL profile"; do
  check "eval condition '$condition' with accuracy, AUC and both task forms" jq -e --arg c "$condition" \
    '[.results[] | select(.condition == $c)][0] | (.accuracy.mean | type == "number") and has("auc")
     and (.by.kind | has("recommend") and has("rating"))' "$report"
done
check "truthfulness report" jq -e '.writers | has("rl") and has("base") and has("teacher")' "$RUN/truth.json"
check "ten sample profiles (or every held-out user)" test "$(grep -c '^| ml-' "$RUN/samples.md")" -eq \
  "$((n_held_out < 10 ? n_held_out : 10))"

if ((${#failures[@]})); then
  printf 'movielens quick check FAILED (%s s):\n' "$elapsed" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "movielens quick check passed in $elapsed s ($n_held_out held-out users, $tasks test tasks; $RUN)"
