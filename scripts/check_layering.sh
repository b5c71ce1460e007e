#!/usr/bin/env bash
# Fails when a folder includes a header of a folder above it. The library order (ARCHITECTURE.md):
# engine ← autograd ← layers ← quant ← trainers ← experiments, and datasets → engine (trainers and
# experiments may use datasets). Usage: scripts/check_layering.sh [repo-root]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

declare -A allowed=(
  [engine]="engine"
  [datasets]="engine datasets"
  [autograd]="engine autograd"
  [layers]="engine autograd layers"
  [quant]="engine autograd layers quant"
  [trainers]="engine autograd layers quant datasets trainers"
  [experiments]="engine autograd layers quant datasets trainers experiments"
)
libraries=" ${!allowed[*]} "
violations=0
for folder in "${!allowed[@]}"; do
  while IFS=: read -r file line include; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$include")
    [[ $libraries == *" $target "* ]] || continue  # generated or third-party headers
    if [[ " ${allowed[$folder]} " != *" $target "* ]]; then
      echo "layering: $file:$line: $folder must not include $target ($include)" >&2
      violations=$((violations + 1))
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' -E '^#include "[a-z_]+/' "$folder" || true)
done
if ((violations)); then
  echo "layering: $violations violation(s); allowed: engine ← autograd ← layers ← quant ← trainers ← experiments, datasets → engine" >&2
  exit 1
fi
echo "layering: ok"
