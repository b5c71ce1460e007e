#!/usr/bin/env bash
# Equal-budget allocations of ResNet-20 on Fashion-MNIST (experiments/results/mixed_precision/README.md):
# `qat allocate` with each proxy at average weight bits 2.5 / 3.0 / 3.5 (stem and classifier at 8 bits, the
# 20 other layers in {2, 3, 4}), then one short LSQ fine-tune per allocation and per uniform width from the
# float checkpoint. Every step is kept once finished and a killed fine-tune resumes from its last epoch.
# Usage: scripts/mixed_precision_results.sh [RUNS_DIR]
# (env: PROXIES, BUDGETS, ALLOCATE_SET, RUNS, SEEDS, EPOCHS, TRAIN_LIMIT)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-runs/mixed_precision}
proxies=${PROXIES:-"ompq hawq_v2 fisher snip emq"}
allocate_set=(${ALLOCATE_SET:-})  # e.g. --set allocate.max_probes=32
budgets=${BUDGETS:-"2.5 3.0 3.5"}
seeds=${SEEDS:-"1"}
epochs=${EPOCHS:-1}
train_limit=${TRAIN_LIMIT:-3200}
config=experiments/configs/fmnist_resnet20_allocate.pbtxt
out=experiments/results/mixed_precision/allocations
qat=build/experiments/qat
mkdir -p "$runs" "$out"
budget_set=(--set train.epochs="$epochs" --set data.train_limit="$train_limit")

for proxy in $proxies; do
  for b in $budgets; do
    name="${proxy}_avg${b}"
    [[ -s $out/$name.json ]] && continue
    echo "allocate $name" >&2
    $qat allocate "$config" "${allocate_set[@]}" --proxy "$proxy" --budget "avg_bits=$b" \
      --out "$out/$name.rules.pbtxt" \
      > "$out/$name.json.tmp"
    mv "$out/$name.json.tmp" "$out/$name.json"
  done
done

for w in ${UNIFORM:-2 3 4}; do  # uniform bits as a one-choice allocation: its exact size and GBOPs
  [[ -s $out/uniform_w$w.json ]] && continue
  $qat allocate "$config" --proxy bparams --bits "$w" --budget "avg_bits=$w" --out "$out/uniform_w$w.rules.pbtxt" \
    > "$out/uniform_w$w.json.tmp"
  mv "$out/uniform_w$w.json.tmp" "$out/uniform_w$w.json"
done

train() {  # NAME SEED [--set ...]: one fine-tune, kept when finished, resumed when killed
  local name=$1 seed=$2
  shift 2
  local dir=$runs/${name}_s$seed
  [[ -s $dir/result.json ]] && return
  local resume=()
  [[ -f $dir/last.h5 ]] && resume=(--resume)
  echo "train $name seed $seed" >&2
  $qat train "$config" "${budget_set[@]}" --set seed="$seed" "$@" --out "$dir" "${resume[@]}" > /dev/null
}

# Fine-tunes in the order given, each from its rules file.
runs_order=${RUNS:-"uniform_w3 ompq_avg3.0 hawq_v2_avg3.0 ompq_avg2.5 ompq_avg3.5 uniform_w2 uniform_w4"}
for seed in $seeds; do
  for name in $runs_order; do train "$name" "$seed" --set quant.rules_file="$out/$name.rules.pbtxt"; done
done
