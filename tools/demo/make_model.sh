#!/usr/bin/env bash
# The recipe of the demo's base model (data/demo-model): a ~1M-parameter
# Qwen3-architecture LM trained from scratch on a synthetic world that the
# demo never evaluates on (seed 100; the demo uses seed 7). It learns two jobs:
#   judge    blind predict prompt (full / partial profile, raw history or
#            nothing + the task's question, no option list) -> the text of the
#            option the user chose             (upm-data judge-rows, continuation
#            mode: a 1M model learns "the option names what the profile
#            likes" quickly, but not "which letter names it")
#   writer   profile prompt (history) -> <think>note</think>profile, first
#            from DEGRADED true profiles (phase all), then from the rule
#            teacher's reading of the same history, one of its 4 seeded
#            candidates per user (phase writer; upm-data profile-rows
#            targets=rule): true profiles name latent tastes a short history
#            may not show, so a small writer trained only on them learns one
#            generic profile for everyone. The candidates are noisy (subsets
#            of the events, coin-flip sentences): a weak writer on purpose,
#            which the demo's SFT (validated, merged) and RL stages improve.
# Usage: tools/demo/make_model.sh OUT_DIR [WORK_DIR]
#   FROM_MODEL=DIR runs only the writer phase, from DIR (a model made by the
#   first two phases) and with its tokenizer.
# Took ~32 min on 2 cores shared with other work (5000 judge steps of 16 short
# rows, then 1500 steps of 8 rows); the result is shipped in data/demo-model
# so that ./run demo need not retrain it.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: make_model.sh OUT_DIR [WORK_DIR]}
WORK=${2:-runs/demo-model-recipe}
BIN=${BIN:-build/bin}
WORLD_USERS=${WORLD_USERS:-6000}
JUDGE_STEPS=${JUDGE_STEPS:-6000}
STEPS=${STEPS:-1500}
WRITER_STEPS=${WRITER_STEPS:-1500}
FROM_MODEL=${FROM_MODEL:-}
mkdir -p "$WORK"
log() { printf '\033[1m[make_model]\033[0m %s\n' "$*" >&2; }

log "1/5 synthetic world (seed 100, $WORLD_USERS users) and its held-out tasks"
"$BIN"/upm-data synth --users "$WORLD_USERS" --seed 100 --output "$WORK/world" --min-events 12 --max-events 20 --category-first
"$BIN"/upm-data split --input "$WORK/world/log.jsonl" --output "$WORK/split" --seed 100 --eval-user-fraction 0 >/dev/null

judge_rows() {  # $1 tokenizer, $2 output
  cat > "$WORK/judge_rows.json" <<JSON
{"tasks": ["$WORK/split/val.jsonl", "$WORK/split/test.jsonl"], "profiles": "$WORK/world/truth.jsonl",
 "histories": "$WORK/split/history.jsonl", "tokenizer": "$1", "output": "$2",
 "prompts": {"max_predict_tokens": 768, "max_prompt_tokens": 1536, "predict_template": "predict_blind.txt",
             "predict_history_template": "predict_history_blind.txt", "predict_none_template": "predict_none_blind.txt"},
 "predictor": {"mode": "continuation"},
 "rows": {"rows_per_task": 2, "seed": 1}}
JSON
  "$BIN"/upm-data judge-rows --config "$WORK/judge_rows.json"
}

TOKENIZER=$WORK/tokenizer
if [ -n "$FROM_MODEL" ]; then
  TOKENIZER=$FROM_MODEL
  log "2/5 tokenizer: $FROM_MODEL's"
else
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
fi

log "3/5 judge rows and profile-writing rows (degraded truth; rule-teacher readings)"
judge_rows "$TOKENIZER" "$WORK/judge_rows.jsonl"
cat > "$WORK/profile_rows.json" <<JSON
{"histories": "$WORK/split/history.jsonl", "profiles": "$WORK/world/truth.jsonl", "tokenizer": "$TOKENIZER",
 "output": "$WORK/profile_rows.jsonl", "synth_vocabulary": true, "prompts": {"max_prompt_tokens": 768},
 "rows": {"drop_sentence": 0.35, "swap_word": 0.35, "seed": 1}}
JSON
"$BIN"/upm-data profile-rows --config "$WORK/profile_rows.json"
# The rule teacher as in configs/demo/build_sft.json, one of its 4 candidates per user.
cat > "$WORK/rule_rows.json" <<JSON
{"histories": "$WORK/split/history.jsonl", "targets": "rule", "rule_candidates": 4, "tokenizer": "$TOKENIZER",
 "output": "$WORK/rule_rows.jsonl", "prompts": {"max_prompt_tokens": 768},
 "rule": {"min_score": 1.0, "max_topics": 2, "click_weight": 0.5, "text_weight": 2.0, "subsample": 0.7, "style_margin": 1.0},
 "rows": {"seed": 1}}
JSON
"$BIN"/upm-data profile-rows --config "$WORK/rule_rows.json"
# Phase 1 reads only the short judge rows (no raw history): the judge's skill
# (the option names what the "Likes" sentence names, not what "Dislikes"
# names) needs thousands of steps and these steps are 5x cheaper. Phase 2 adds
# the long rows: raw-history judging and profile writing.
grep -v '"input":"history"' "$WORK/judge_rows.jsonl" > "$WORK/judge_short_rows.jsonl"
cat "$WORK/judge_rows.jsonl" "$WORK/profile_rows.jsonl" > "$WORK/base_rows.jsonl"
# Phase 3 (writer): the rule-teacher rows, plus as many judge rows drawn at
# random so that the judge keeps its skill (it is the same model).
/usr/bin/python3 - "$WORK" <<'PY'
import random, sys
work = sys.argv[1]
writer = open(f"{work}/rule_rows.jsonl").readlines()
judge = open(f"{work}/judge_rows.jsonl").readlines()
rows = writer + random.Random(3).sample(judge, min(len(judge), len(writer)))
random.Random(4).shuffle(rows)
open(f"{work}/writer_rows.jsonl", "w").writelines(rows)
PY

train() {  # $1 phase name, $2 init (random | a model folder), $3 rows, $4 steps, $5 micro-batch, $6 lr
  local init=pretrained model=$2
  if [ "$2" = random ]; then init=random; model=configs/demo/model_config.json; fi
  cat > "$WORK/$1.json" <<JSON
{"run_dir": "$WORK/$1", "model": "$model", "init": "$init",
 "tokenizer": "$TOKENIZER", "runtime": {"device": "cpu", "dtype": "float32"},
 "data": {"train_file": "$3", "max_length": 800, "too_long": "truncate", "bucket_batches": 8},
 "micro_batch_size": $5, "grad_accum": 1, "max_steps": $4,
 "optimizer": {"lr": $6, "weight_decay": 0.01, "max_grad_norm": 1.0},
 "schedule": {"kind": "cosine", "warmup_steps": 30, "min_lr_ratio": 0.1},
 "log_every": 25, "save_every": ${SAVE_EVERY:-500}, "seed": 0}
JSON
  "$BIN"/upm-train sft --config "$WORK/$1.json"
}
if [ -z "$FROM_MODEL" ]; then
  log "4/5 training from scratch: judge phase ($JUDGE_STEPS steps of 16 short rows), then all rows ($STEPS steps of 8), then the writer phase ($WRITER_STEPS steps of 8)"
  train judge random "$WORK/judge_short_rows.jsonl" "$JUDGE_STEPS" 16 2e-3
  train all "$WORK/judge/final" "$WORK/base_rows.jsonl" "$STEPS" 8 1e-3
  FROM_MODEL=$WORK/all/final
else
  log "4/5 the writer phase only ($WRITER_STEPS steps of 8), from $FROM_MODEL"
fi
train writer "$FROM_MODEL" "$WORK/writer_rows.jsonl" "$WRITER_STEPS" 8 1e-3

log "5/5 model folder -> $OUT"
mkdir -p "$OUT"
cp "$WORK/writer/final/"* "$OUT/"
ls -la "$OUT"
