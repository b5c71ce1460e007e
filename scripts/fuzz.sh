#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS: scripts/fuzz.sh config|idx|checkpoint|packed SECONDS
# Installs clang-14 and its runtime if missing, builds build-fuzz/ (QAT_FUZZ=ON: ASan + UBSan + libFuzzer),
# and fuzzes from the committed seeds (tests/fuzz/corpus/TARGET) plus the inputs earlier runs found
# (build-fuzz/corpus/TARGET, kept between runs: a run resumes where the last one stopped). A crash leaves
# its input in build-fuzz/crashes/ and fails the script; add the fixed input to the committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh config|idx|checkpoint|packed SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
case $target in config | idx | checkpoint | packed) ;; *)
  echo "fuzz: unknown target '$target' (config, idx, checkpoint, packed)" >&2
  exit 1
  ;;
esac

if ! command -v clang++-14 >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null |
  grep -q "install ok installed"; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends clang-14 \
    libclang-rt-14-dev
fi
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DQAT_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQAT_BENCHMARKS=OFF
fi
ninja -C build-fuzz "fuzz_$target"

work=build-fuzz/corpus/$target
mkdir -p "$work" build-fuzz/crashes
# HDF5 keeps the internals of a failed open until exit, which LeakSanitizer would report for every
# corrupt file; leaks are not what these targets look for. Appended last so that it wins over a caller's
# ASAN_OPTIONS (.ci/run exports detect_leaks=1 for the sanitizer test run before fuzzing).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz: $target for $seconds s from $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD)"
"build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
  -artifact_prefix="build-fuzz/crashes/$target-" "$work" "tests/fuzz/corpus/$target"
echo "fuzz: $target finished at $(date -u +%FT%TZ) without a crash"
