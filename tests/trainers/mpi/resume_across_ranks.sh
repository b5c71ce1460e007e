#!/usr/bin/env bash
# A 2-rank qat train stopped after its first epoch resumes on 2 ranks to the numbers of the uninterrupted
# 2-rank run, and on 1 rank from the same checkpoint keeping the stored first epoch.
# Usage: resume_across_ranks.sh QAT_BINARY MPIRUN WORK_DIR   (ctest passes them)
set -euo pipefail
qat=$1 mpirun=$2 work=$3
config="$(dirname "$0")/../../../experiments/configs/fmnist_convnet_demo.pbtxt"
rm -rf "$work" && mkdir -p "$work"
args=(train "$config" --set data.train_limit=1024 --set data.test_limit=256 --set train.batch_size=64
  --set train.epochs=2 --set model.width=4)
ranks() { "$mpirun" -np "$1" --oversubscribe --allow-run-as-root -x OMP_NUM_THREADS=1 "$qat" "${@:2}"; }
figures() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["test_accuracy"], r["test_loss"], r["final_train_loss"])' "$1"; }

ranks 2 "${args[@]}" --out "$work/whole" >/dev/null 2>&1
ranks 2 "${args[@]}" --out "$work/two" --stop-after 1 >/dev/null 2>&1
cp -r "$work/two" "$work/one"
ranks 2 "${args[@]}" --out "$work/two" --resume >/dev/null 2>&1
ranks 1 "${args[@]}" --out "$work/one" --resume >/dev/null 2>&1

status=0
if [ "$(figures "$work/two/result.json")" != "$(figures "$work/whole/result.json")" ]; then
  echo "resumed on 2 ranks: $(figures "$work/two/result.json"), uninterrupted: $(figures "$work/whole/result.json")"
  status=1
fi
# The first epoch's lines (stored by the 2-rank run) are kept; the second was trained on 1 rank.
if [ "$(grep -c '"epoch": 0' "$work/one/metrics.jsonl")" != 2 ] ||
  [ "$(grep '"epoch": 0' "$work/one/metrics.jsonl")" != "$(grep '"epoch": 0' "$work/two/metrics.jsonl")" ] ||
  [ "$(grep -c '"epoch": 1' "$work/one/metrics.jsonl")" != 2 ]; then
  echo "resumed on 1 rank: metrics.jsonl lost or changed the stored first epoch:" && cat "$work/one/metrics.jsonl"
  status=1
fi
exit $status
