#!/usr/bin/env bash
# The recipe of the demo's base model (data/demo-model): a ~1M-parameter
# Qwen3-architecture LM trained from scratch on a synthetic world that the
# demo never evaluates on (seed 100; the demo uses seed 7). It learns two jobs:
#   judge    blind predict prompt (full / partial profile, raw history or
#            nothing + the task's question, no option list) -> the text of the
#            option the user chose             (upm-data judge-rows, continuation
#            mode: a 1M model learns "the option names what the profile
#            likes" quickly, but not "which letter names it")
#   writer   profile prompt (history) -> <think>note</think>profile, from
#            DEGRADED true profiles, so it is a weak writer on purpose: the
#            demo's SFT and RL stages have to improve it   (upm-data profile-rows)
# Usage: tools/demo/make_model.sh OUT_DIR [WORK_DIR]
# Took ~32 min on 2 cores shared with other work (5000 judge steps of 16 short
# rows, then 1500 steps of 8 rows); the result is shipped in data/demo-model
# so that ./run demo need not retrain it.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: make_model.sh OUT_DIR [WORK_DIR]}
WORK=${2:-runs/demo-model-recipe}
BIN=${BIN:-build/bin}
WORLD_USERS=${WORLD_USERS:-6000}
JUDGE_STEPS=${JUDGE_STEPS:-5000}
STEPS=${STEPS:-1500}
mkdir -p "$WORK"
log() { printf '\033[1m[make_model]\033[0m %s\n' "$*" >&2; }

log "1/5 synthetic world (seed 100, $WORLD_USERS users) and its held-out tasks"
"$BIN"/upm-data synth --users "$WORLD_USERS" --seed 100 --output "$WORK/world" --min-events 12 --max-events 20 --category-first
"$BIN"/upm-data split --input "$WORK/world/log.jsonl" --output "$WORK/split" --seed 100 --eval-user-fraction 0 >/dev/null

judge_rows() {  # $1 tokenizer, $2 output
  cat > "$WORK/judge_rows.json" <<JSON
{"tasks": ["$WORK/split/val.jsonl", "$WORK/split/test.jsonl"], "profiles": "$WORK/world/truth.jsonl",
 "histories": "$WORK/split/history.jsonl", "tokenizer": "$1", "output": "$2",
 "prompts": {"max_predict_tokens": 768, "max_prompt_tokens": 1536, "preset": "blind"},
 "predictor": {"mode": "continuation"},
 "rows": {"rows_per_task": 2, "seed": 1}}
JSON
  "$BIN"/upm-data judge-rows --config "$WORK/judge_rows.json"
}

log "2/5 SentencePiece tokenizer (2048 pieces) from the prompts the model will read"
judge_rows tests/data/text/tiny_bpe/tokenizer.json "$WORK/corpus_rows.jsonl"
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
with open(f"{work}/corpus.txt", "w") as out:
    for line in open(f"{work}/corpus_rows.jsonl"):
        row = json.loads(line)
        for text in (row["prompt"] + row["completion"]).split("\n"):
            if text.strip():
                out.write(text + "\n")
    for line in open(f"{work}/world/truth.jsonl"):
        out.write(json.loads(line)["profile"] + "\n")
PY
cat configs/prompts/profile.txt configs/prompts/update.txt >> "$WORK/corpus.txt"
"$BIN"/upm-data tokenizer-train --input "$WORK/corpus.txt" --output "$WORK/tokenizer" --vocab-size 2048

log "3/5 judge rows and (degraded) profile-writing rows"
judge_rows "$WORK/tokenizer" "$WORK/judge_rows.jsonl"
cat > "$WORK/profile_rows.json" <<JSON
{"histories": "$WORK/split/history.jsonl", "profiles": "$WORK/world/truth.jsonl", "tokenizer": "$WORK/tokenizer",
 "output": "$WORK/profile_rows.jsonl", "synth_vocabulary": true, "prompts": {"max_prompt_tokens": 768},
 "rows": {"drop_sentence": 0.35, "swap_word": 0.35, "seed": 1}}
JSON
"$BIN"/upm-data profile-rows --config "$WORK/profile_rows.json"
# Phase 1 reads only the short judge rows (no raw history): the judge's skill
# (the option names what the "Likes" sentence names, not what "Dislikes"
# names) needs thousands of steps and these steps are 5x cheaper. Phase 2 adds
# the long rows: raw-history judging and profile writing.
grep -v '"input":"history"' "$WORK/judge_rows.jsonl" > "$WORK/judge_short_rows.jsonl"
cat "$WORK/judge_rows.jsonl" "$WORK/profile_rows.jsonl" > "$WORK/base_rows.jsonl"

train() {  # $1 phase name, $2 init (random | a model folder), $3 rows, $4 steps, $5 micro-batch, $6 lr
  local init=pretrained model=$2
  if [ "$2" = random ]; then init=random; model=configs/demo/model_config.json; fi
  cat > "$WORK/$1.json" <<JSON
{"run_dir": "$WORK/$1", "model": "$model", "init": "$init",
 "tokenizer": "$WORK/tokenizer", "runtime": {"device": "cpu", "dtype": "float32"},
 "data": {"train_file": "$3", "max_length": 800, "too_long": "truncate", "bucket_batches": 8},
 "micro_batch_size": $5, "grad_accum": 1, "max_steps": $4,
 "optimizer": {"lr": $6, "weight_decay": 0.01, "max_grad_norm": 1.0},
 "schedule": {"kind": "cosine", "warmup_steps": 30, "min_lr_ratio": 0.1},
 "log_every": 25, "save_every": ${SAVE_EVERY:-500}, "seed": 0}
JSON
  "$BIN"/upm-train sft --config "$WORK/$1.json"
}
log "4/5 training from scratch: judge phase ($JUDGE_STEPS steps of 16 short rows), then all rows ($STEPS steps of 8)"
train judge random "$WORK/judge_short_rows.jsonl" "$JUDGE_STEPS" 16 2e-3
train all "$WORK/judge/final" "$WORK/base_rows.jsonl" "$STEPS" 8 1e-3

log "5/5 model folder -> $OUT"
mkdir -p "$OUT"
cp "$WORK/all/final/"* "$OUT/"
ls -la "$OUT"
