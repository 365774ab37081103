#!/usr/bin/env bash
# Runs the README's walk-through as a new user would on a fresh clone: every
# ```bash block that follows a `<!-- readme-test -->` line, in order, in one
# shell with `set -euo pipefail`, from a scratch copy of the repository's
# tracked files (so nothing a developer left in the tree helps), with the
# built binaries in place of `build/`. A command that fails fails the test;
# a README without marked blocks fails too, so the marker cannot silently go.
# Usage: tools/ci/readme_blocks.sh [BUILD_DIR] [README]
#   BUILD_DIR  the build tree whose bin/ the blocks call as build/bin (default build)
#   README     the file to run (default README.md)
# Environment: KEEP=1 keeps the scratch folder and prints its path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
README=${2:-$ROOT/README.md}
[ -x "$BUILD/bin/upm-data" ] || { echo "readme_blocks: no binaries under $BUILD/bin (build first)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/upm-readme.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "readme_blocks: kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# The blocks, in README order, each prefixed by a line naming where it starts.
python3 - "$README" > "$WORK/blocks.sh" <<'PY'
import sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\n")
out, count, i = [], 0, 0
while i < len(lines):
    if lines[i].strip() == "<!-- readme-test -->":
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or lines[j].strip() not in ("```bash", "```sh"):
            sys.exit(f"{path}:{i + 1}: a readme-test marker must be followed by a ```bash block")
        k = j + 1
        while k < len(lines) and lines[k].strip() != "```":
            k += 1
        if k >= len(lines):
            sys.exit(f"{path}:{j + 1}: unterminated code block")
        count += 1
        out.append(f"echo '[readme] block {count} ({path}:{j + 2})' >&2")
        out.extend(lines[j + 1:k])
        i = k
    i += 1
if count == 0:
    sys.exit(f"{path}: no <!-- readme-test --> blocks")
print("\n".join(out))
PY

# A fresh clone's files: what git tracks, as the working tree has it.
mkdir "$WORK/repo"
(cd "$ROOT" && git ls-files -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$WORK/repo"
mkdir -p "$WORK/repo/build"
ln -s "$BUILD/bin" "$WORK/repo/build/bin"

cd "$WORK/repo"
start=$(date +%s)
bash -euo pipefail "$WORK/blocks.sh"
echo "readme_blocks: every marked block of $(basename "$README") ran ($(( $(date +%s) - start )) s)" >&2
