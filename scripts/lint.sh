#!/usr/bin/env bash
# The habits, checked: clang-format on every C++ file, the folder layering, and clang-tidy (the committed
# .clang-tidy, warnings as errors) on the C++ files changed since the base commit in .ci/tidy_base (the
# commit the current work started from; move it forward when a stop lands).
# Usage: scripts/lint.sh [build-dir-with-compile_commands.json]   (.ci/run calls it; exits 1 on a violation)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
missing=()
sudo_cmd=()
status=0
for tool in clang-format clang-tidy; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "== clang-format =="
if git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror; then echo "format: ok"; else status=1; fi

echo "== layering =="
scripts/check_layering.sh || status=1

echo "== clang-tidy =="
base=$(cat .ci/tidy_base)
# Changed sources, and for a changed header the source of the same name (tidy checks headers through it).
mapfile -t files < <(git diff --name-only --diff-filter=d "$base" HEAD -- '*.cpp' '*.h' |
  sed 's/\.h$/.cpp/' | sort -u | while read -r f; do
    [ -f "$f" ] && grep -q "\"file\": \"$PWD/$f\"" "$build_dir/compile_commands.json" && echo "$f"
  done)
if ((${#files[@]})); then
  echo "tidy: ${#files[@]} file(s) changed since ${base:0:12}"
  # The compile database names GCC's precompiled header, which clang cannot read, and GCC-only warning
  # options (quant/ptq's -Wno-maybe-uninitialized): tidy a copy without them.
  tidy_db=$(mktemp -d)
  trap 'rm -rf "$tidy_db"' EXIT
  sed -E 's# -include [^ ]*cmake_pch\.hxx##g; s# -Winvalid-pch##g; s# -Wno-maybe-uninitialized##g' \
    "$build_dir/compile_commands.json" \
    >"$tidy_db/compile_commands.json"
  printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$tidy_db" --quiet --warnings-as-errors='*' \
    --extra-arg=-Wno-unknown-warning-option ||
    status=1
else
  echo "tidy: no C++ file changed since ${base:0:12}"
fi
exit $status
