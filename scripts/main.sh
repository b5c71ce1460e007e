#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains the demo network on Fashion-MNIST and prints
# the JSON result (test_accuracy and the run's other figures). Output goes to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
build/experiments/qat train experiments/configs/fmnist_convnet_demo.pbtxt --out out/demo "$@"
