#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and PyTorch (no network),
# configure UPM against that PyTorch's LibTorch, build what the check needs
# with every core, run the device tests (`ctest -L gpu`: CPU-vs-device
# logits in fp32 and bf16, cached decode, SDPA vs explicit attention, one SFT
# step, one GRPO update, a one-rank NCCL group) and a short benchmark
# (upm-bench-model: prefill vs the device's measured bf16/fp32 GEMM peak,
# batch-1 and batch-32 decode vs its memory bandwidth, beside transformers'
# generate() on the same model shape in the same run), and write one JSON
# summary. Each step has a time limit; the whole check aims at 10 minutes.
#
#   bash tools/gpu/check.sh [--device cuda|cpu] [--build-dir DIR] [--out FILE] [--quick]
#
# --device cpu runs the same steps on the CPU against itself (CI does, so the
# check cannot rot where no GPU is); it implies --quick (a short benchmark:
# 64-token prefill, 8 decode steps, batch 8 instead of 32, one repetition of
# generate()).
# PYTHON names the Python whose torch provides LibTorch (default: .venv's
# python when present, else python3). Exit status: 0 when every device test
# passed and the benchmark ran, 1 otherwise, 2 for bad arguments.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

device=cuda
build=""
out=""
quick=0
while (($#)); do
  case "$1" in
    --device) device=${2:-}; shift 2 ;;
    --build-dir) build=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$device" in
  cuda|cpu) ;;
  *) echo "check.sh: --device takes cuda or cpu, not '$device'" >&2; exit 2 ;;
esac
[ "$device" = cpu ] && quick=1
build=${build:-build-$device-check}
out=${out:-$build/gpu_check.json}
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=$(command -v python3); fi
fi
log() { printf '[gpu-check] %s\n' "$*" >&2; }
start=$(date +%s)

"$PYTHON" - "$device" <<'PY' || { log "$PYTHON cannot run torch on $device"; exit 1; }
import sys, torch
if sys.argv[1] == "cuda":
    assert torch.cuda.is_available(), "torch.cuda.is_available() is False"
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}", file=sys.stderr)
else:
    print(f"torch {torch.__version__} on the CPU", file=sys.stderr)
PY

jobs=$(nproc)
mkdir -p "$build"
log "configure $build against $PYTHON's LibTorch"
timeout 300 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DUPM_PYTHON="$PYTHON" >"$build/check-configure.log" 2>&1 ||
  { tail -n 30 "$build/check-configure.log" >&2; log "configure failed (log: $build/check-configure.log)"; exit 1; }
log "build with $jobs jobs"
timeout 420 cmake --build "$build" -j "$jobs" --target upm_device_tests upm-bench-model >"$build/check-build.log" 2>&1 ||
  { grep -m 20 -E "error|Error" "$build/check-build.log" >&2 || true; log "build failed (log: $build/check-build.log)"; exit 1; }

build_abs=$(cd "$build" && pwd)
log "device tests (UPM_TEST_DEVICE=$device)"
tests_ok=1
UPM_TEST_DEVICE=$device OMP_WAIT_POLICY=passive timeout 300 ctest --test-dir "$build" -L gpu --output-on-failure \
  --output-junit "$build_abs/gpu_tests.xml" >"$build/gpu_tests.log" 2>&1 || tests_ok=0
tail -n 5 "$build/gpu_tests.log" >&2

batch=32
hf_decode=32
hf_reps=3
((quick)) && batch=8 && hf_decode=8 && hf_reps=1
bench_args=(--device "$device" --decode-batch "$batch")
((quick)) && bench_args+=(--prompt 64 --decode 8)
log "benchmark: upm-bench-model ${bench_args[*]}"
bench_ok=1
OMP_WAIT_POLICY=passive timeout 300 "$build/bin/upm-bench-model" "${bench_args[@]}" >"$build/gpu_bench.json" || bench_ok=0
if ((bench_ok)); then
  log "transformers generate() on the same shape"
  timeout 420 "$PYTHON" tools/gpu/hf_generate.py "$build/gpu_bench.json" "$device" "$hf_decode" "$batch" "$hf_reps" \
    >"$build/gpu_hf.json" || echo '{"error": "hf_generate.py failed"}' >"$build/gpu_hf.json"
fi

"$PYTHON" - "$build" "$out" "$device" "$tests_ok" "$bench_ok" "$(($(date +%s) - start))" <<'PY'
import json, os, sys, xml.etree.ElementTree as ET
build, out, device, tests_ok, bench_ok, seconds = sys.argv[1:]
summary = {"device": device, "seconds": int(seconds), "tests": {}, "bench": None, "transformers": None}
junit = os.path.join(build, "gpu_tests.xml")
if os.path.exists(junit):
    cases = ET.parse(junit).getroot().iter("testcase")
    names = [(c.get("name"), c.get("status")) for c in cases]
    summary["tests"] = {"run": len(names), "failed": [n for n, s in names if s != "run"]}
summary["tests"]["passed"] = tests_ok == "1"
if bench_ok == "1":
    bench = json.load(open(os.path.join(build, "gpu_bench.json")))
    hf = json.load(open(os.path.join(build, "gpu_hf.json")))
    summary["bench"], summary["transformers"] = bench, hf
    if "gpu" in hf:
        summary["gpu"] = hf["gpu"]
    ratios = {}
    for r in bench["results"]:
        dtype = r["dtype"]
        if dtype not in hf:
            continue
        ratios[dtype] = {
            "prefill_tflops": r["prefill_gflops"] / 1000,
            "prefill_ratio_to_peak_gemm": r["prefill_ratio_to_peak_gemm"],
            "decode_b1_ratio_to_memory_bandwidth": r["decode_ratio_to_memory_bandwidth"],
            "decode_b1_upm_over_transformers": r["decode_tokens_per_s"] / hf[dtype]["decode_b1_tokens_per_s"],
            f"decode_b{hf['batch']}_upm_over_transformers":
                r["decode_batch_tokens_per_s"] / hf[dtype][f"decode_b{hf['batch']}_tokens_per_s"],
        }
    summary["ratios"] = ratios
json.dump(summary, open(out, "w"), indent=2)
print(json.dumps({k: summary[k] for k in ("device", "seconds", "tests", "ratios") if k in summary}, indent=2))
PY
log "summary: $out ($(($(date +%s) - start)) s)"
[ "$tests_ok" = 1 ] && [ "$bench_ok" = 1 ]
