#!/usr/bin/env bash
# The recipe of the demo's initial writer (data/demo-writer): the bundled judge
# (data/demo-model) trained further on one job, reading a raw history and
# writing what it shows. Target = the rule-based teacher's reading of exactly
# the events the prompt shows (upm-data profile-rows, targets "rule"), on a
# synthetic world the demo never evaluates on (seed 100; the demo uses seed 7).
# Why a separate model: session 4 measured that writing profiles from ~1500
# mixed steps leaves a 1M writer at chance on the user's topics, and that
# training the judge's own weights on writing costs the judge accuracy; here
# the judge stays frozen in data/demo-model and the writer gets ~8x the
# writing steps, on 24000 users (each read about once).
# Usage: tools/demo/make_writer.sh OUT_DIR [WORK_DIR]
# Took ~95 min on one core of the shared 2-core machine (3500 steps of 8 rows).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: make_writer.sh OUT_DIR [WORK_DIR]}
WORK=${2:-runs/demo-writer-recipe}
BIN=${BIN:-build/bin}
JUDGE=${JUDGE:-data/demo-model}
WORLD_USERS=${WORLD_USERS:-24000}
STEPS=${STEPS:-3500}
mkdir -p "$WORK"
log() { printf '\033[1m[make_writer]\033[0m %s\n' "$*" >&2; }

log "1/3 synthetic world (seed 100, $WORLD_USERS users); the histories are the split's history part, as in the demo"
"$BIN"/upm-data synth --users "$WORLD_USERS" --seed 100 --output "$WORK/world" --min-events 12 --max-events 20 --category-first
"$BIN"/upm-data split --input "$WORK/world/log.jsonl" --output "$WORK/split" --seed 100 --eval-user-fraction 0 >/dev/null

log "2/3 profile rows: the rule teacher's reading of each prompt's history (the demo's build-sft rule settings)"
cat > "$WORK/profile_rows.json" <<JSON
{"histories": "$WORK/split/history.jsonl", "targets": "rule", "rule_candidates": 1,
 "rule": $(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["teacher"]["rule"]))' configs/demo/build_sft.json),
 "tokenizer": "$JUDGE", "output": "$WORK/rule_rows.jsonl", "prompts": {"max_prompt_tokens": 768}}
JSON
"$BIN"/upm-data profile-rows --config "$WORK/profile_rows.json"

log "3/3 training from $JUDGE: $STEPS steps of 8 rows"
cat > "$WORK/writer.json" <<JSON
{"run_dir": "$WORK/writer", "model": "$JUDGE", "init": "pretrained",
 "runtime": {"device": "cpu", "dtype": "float32"},
 "data": {"train_file": "$WORK/rule_rows.jsonl", "max_length": 900, "too_long": "truncate", "bucket_batches": 8},
 "micro_batch_size": 8, "grad_accum": 1, "max_steps": $STEPS,
 "optimizer": {"lr": 2e-3, "weight_decay": 0.01, "max_grad_norm": 1.0},
 "schedule": {"kind": "cosine", "warmup_steps": 100, "min_lr_ratio": 0.1},
 "log_every": 25, "save_every": 500, "seed": 0}
JSON
"$BIN"/upm-train sft --config "$WORK/writer.json"

mkdir -p "$OUT"
cp "$WORK/writer/final/"* "$OUT/"
ls -la "$OUT"
