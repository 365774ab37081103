#!/usr/bin/env bash
# The house style (.clang-format) over every tracked C++ file.
#   bash tools/ci/format.sh [ROOT]          rewrite the files in place
#   bash tools/ci/format.sh --check [ROOT]  list the files that differ; exit 1 if any
set -euo pipefail
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
cd "${1:-$(dirname "$0")/../..}"
command -v clang-format > /dev/null || { echo "format: clang-format is missing (./run setup installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.h' '*.cpp' | grep -v '^tests/data/')
if [ "$check" = 0 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 clang-format -i
  exit 0
fi
differ=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" > /dev/null 2>&1; then
    echo "$f: differs from .clang-format (bash tools/ci/format.sh rewrites it)"
    differ=1
  fi
done
exit $differ
