#!/usr/bin/env bash
# The recipe of the demo's initial writer (data/demo-writer): the bundled judge
# (data/demo-model) trained further on one job, reading a raw history and
# writing what it shows. Target = the rule-based teacher's reading of exactly
# the events the prompt shows (upm-data profile-rows, targets "rule"), on a
# synthetic world the demo never evaluates on (seed 100; the demo uses seed 7).
# Why a separate model: measured (docs/results.md), writing profiles from ~1500
# mixed steps leaves a 1M writer at chance on the user's topics, and that
# training the judge's own weights on writing costs the judge accuracy; here
# the judge stays frozen in data/demo-model and the writer gets ~8x the
# writing steps, on 24000 users (each read about once).
# Phase 2 is a curriculum for the answer tone: after phase 1 the
# writer's tone word was the same for every user (tools/demo/tone_logit.py),
# whatever the history showed. Short histories where the tone is plain
# (tools/demo/tone_curriculum.py: a tone post and one other post; a choice
# between the same answer in both tones and up to two other events; histories
# cut to their tone evidence), mixed with full ones, teach it in 1550 steps.
# The shipped data/demo-writer is phase 1 + phase 2 (a rerun of phase 2 from
# the phase-1 writer gave the same bytes). Measured (docs/results.md, "The
# demo writer"): tone words 83% true instead of one word for everybody.
# Usage: tools/demo/make_writer.sh OUT_DIR [WORK_DIR]
#   TONE_CURRICULUM=0  stop after phase 1 (a writer that names one tone for everybody)
#   PHASE1=DIR         start phase 2 from an existing phase-1 writer (skips phase 1)
# Took ~95 min (phase 1, 3500 steps of 8 rows) + ~25 min (phase 2) on one
# core of the shared 2-core machine.
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
# One SFT run of 8-row steps (config RUN_DIR.json):
# $1 run dir, $2 initial model, $3 rows, $4 steps, $5 lr, $6 warmup steps, $7 save_every
train() {
  cat > "$1.json" <<JSON
{"run_dir": "$1", "model": "$2", "init": "pretrained",
 "runtime": {"device": "cpu", "dtype": "float32"},
 "data": {"train_file": "$3", "max_length": 900, "too_long": "truncate", "bucket_batches": 8},
 "micro_batch_size": 8, "grad_accum": 1, "max_steps": $4,
 "optimizer": {"lr": $5, "weight_decay": 0.01, "max_grad_norm": 1.0},
 "schedule": {"kind": "cosine", "warmup_steps": $6, "min_lr_ratio": 0.1},
 "log_every": 25, "save_every": $7, "seed": 0}
JSON
  "$BIN"/upm-train sft --config "$1.json"
}

log "1/5 synthetic world (seed 100, $WORLD_USERS users); the histories are the split's history part, as in the demo"
"$BIN"/upm-data synth --users "$WORLD_USERS" --seed 100 --output "$WORK/world" --min-events 12 --max-events 20 --category-first
"$BIN"/upm-data split --input "$WORK/world/log.jsonl" --output "$WORK/split" --seed 100 --eval-user-fraction 0 >/dev/null

# The demo's build-sft rule settings, less its tone caution (tone_margin): the
# writer learns to read every tone a history shows.
log "2/5 profile rows: the rule teacher's reading of each prompt's history (the demo's build-sft rule settings)"
cat > "$WORK/profile_rows.json" <<JSON
{"histories": "$WORK/split/history.jsonl", "targets": "rule", "rule_candidates": 1,
 "rule": $(/usr/bin/python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["teacher"]["rule"]; r.pop("tone_margin", None); print(json.dumps(r))' configs/demo/build_sft.json),
 "tokenizer": "$JUDGE", "output": "$WORK/rule_rows.jsonl", "prompts": {"max_prompt_tokens": 768}}
JSON
"$BIN"/upm-data profile-rows --config "$WORK/profile_rows.json"

if [ -z "${PHASE1:-}" ]; then
log "3/5 phase 1, training from $JUDGE: $STEPS steps of 8 rows"
train "$WORK/writer" "$JUDGE" "$WORK/rule_rows.jsonl" "$STEPS" 2e-3 100 500
PHASE1=$WORK/writer/final
fi

if [ "${TONE_CURRICULUM:-1}" != 1 ]; then
  mkdir -p "$OUT"
  cp "$PHASE1/"* "$OUT/"
  ls -la "$OUT"
  exit 0
fi

log "4/5 tone curriculum rows: short histories where the tone is plain, targets by the same rule teacher"
/usr/bin/python3 tools/demo/tone_curriculum.py "$WORK/split/history.jsonl" "$WORK/tone"
for part in posts choices cut; do
  /usr/bin/python3 - "$WORK/profile_rows.json" "$WORK/tone/$part.jsonl" "$WORK/tone/${part}_rows.jsonl" > "$WORK/tone/$part.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config.update(histories=sys.argv[2], output=sys.argv[3])
print(json.dumps(config))
PY
  "$BIN"/upm-data profile-rows --config "$WORK/tone/$part.json"
done
# Deterministic shuffles: GNU shuf reading a fixed byte stream.
mix() { shuf --random-source=<(yes) > "$1"; }
T=$WORK/tone
mix "$T/stage_a.jsonl" < "$T/posts_rows.jsonl"
(head -2000 "$T/posts_rows.jsonl"; head -6000 "$T/cut_rows.jsonl"; sed -n 6001,10000p "$WORK/rule_rows.jsonl") | mix "$T/stage_b.jsonl"
(head -5000 "$T/choices_rows.jsonl"; sed -n 2001,4000p "$T/posts_rows.jsonl"; sed -n 6001,9000p "$T/cut_rows.jsonl";
 sed -n 10001,13000p "$WORK/rule_rows.jsonl") | mix "$T/stage_c.jsonl"

log "5/5 phase 2 from $PHASE1: tone posts (150 steps), + cut and full histories (400), + tone choices (1000)"
train "$T/a" "$PHASE1" "$T/stage_a.jsonl" 150 2e-3 20 0
train "$T/b" "$T/a/final" "$T/stage_b.jsonl" 400 1e-3 20 0
train "$T/c" "$T/b/final" "$T/stage_c.jsonl" 1000 1e-3 20 0

mkdir -p "$OUT"
cp "$T/c/final/"* "$OUT/"
ls -la "$OUT"
