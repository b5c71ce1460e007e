#!/usr/bin/env bash
# The main job: installs what is missing, builds, then on Fashion-MNIST fine-tunes the committed
# full-precision ResNet-20 with NIPQ and with LSQ at W4A4 and W2A2 (a few minutes), prints the comparison
# table and the bits / size / BOPs of the NIPQ W2A2 model, exports that model to ONNX and runs it in
# ONNX Runtime over the test set, exports it bit-packed and runs it with integer kernels, prints the
# comparison's JSON line, and ends by writing the report of the comparison (qat report) and printing its path.
# Everything goes to out/quickstart/ (finished runs are kept: a second invocation only re-reports).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
qat=build/experiments/qat
result=$($qat compare experiments/configs/fmnist_resnet20_quickstart.pbtxt --out out/quickstart "$@")
cat out/quickstart/compare.md
model=out/quickstart/runs/nipq_w2a2_s1/model.h5
$qat inspect $model --set data.test_limit=128 >/dev/null
$qat export $model --format onnx --out out/quickstart/nipq_w2a2.onnx --overwrite
if [ -d scripts/node_modules/onnxruntime-node ]; then
  echo "ONNX Runtime on out/quickstart/nipq_w2a2.onnx: $(node scripts/ort_eval.mjs out/quickstart/nipq_w2a2.onnx)"
fi
$qat export $model --format packed --out out/quickstart/nipq_w2a2.packed.h5 --overwrite >/dev/null
echo "Integer inference of out/quickstart/nipq_w2a2.packed.h5: $($qat eval out/quickstart/nipq_w2a2.packed.h5 | tail -n 1)"
echo "$result"
# Without timing, so that the report adds seconds (evaluating the four runs and their float model);
# `--timing quick` or `full` measures fp32 / fake-quantized / integer latency too.
report=$($qat report out/quickstart --out out/quickstart/report --timing off \
  --title "qat quickstart: NIPQ and LSQ on ResNet-20" 2>/dev/null)
echo "Report: $(echo "$report" | sed -n 's/.*"html": "\([^"]*\)".*/\1/p')"
