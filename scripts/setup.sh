#!/usr/bin/env bash
# Installs the Debian packages qat needs (only the missing ones), then configures and builds into build/.
# Usage: scripts/setup.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true

packages=(build-essential cmake ninja-build pkg-config libdnnl-dev ocl-icd-opencl-dev libeigen3-dev libtbb-dev
  libprotobuf-dev protobuf-compiler libhdf5-dev libgtest-dev libbenchmark-dev zlib1g-dev
  libsentencepiece-dev nlohmann-json3-dev gnuplot-nox dataset-fashion-mnist wordnet-base fortunes
  libonnx-dev chromium libopenmpi-dev openmpi-bin)
# libopenmpi-dev, openmpi-bin: data-parallel training (mpirun -np N qat train) and its ctest cases.
# chromium: scripts/check_report.mjs opens qat report's page in it (headless, over the DevTools pipe).
# Node.js and npm for ONNX Runtime, from Debian unless the machine has them (e.g. NodeSource's nodejs,
# which bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime for scripts/ort_eval.mjs (the export checks); its install script only fetches GPU extras,
# hence --ignore-scripts. Without it the export tests skip their runtime comparison.
if [ ! -d scripts/node_modules/onnxruntime-node ]; then
  (cd scripts && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --silent) ||
    echo "setup: npm install onnxruntime-node failed: ONNX Runtime checks will be skipped" >&2
fi

# Extra configure arguments come from the command line or QAT_CMAKE_ARGS (CI: -DQAT_WERROR=ON); with
# either, an existing build directory is configured again with them.
read -r -a env_args <<<"${QAT_CMAKE_ARGS:-}"
if [ ! -f "$build_dir/build.ninja" ] || (($# + ${#env_args[@]})); then
  cmake -S . -B "$build_dir" -G Ninja "$@" "${env_args[@]}"
fi
ninja -C "$build_dir"
