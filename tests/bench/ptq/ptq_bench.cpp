// Post-training quantizer benchmarks (issue 11, "Speed"): OPTQ over BERT-small's 16 transformer linears
// (4 layers of qkv 768×256, out 256×256, f1 1024×256, f2 256×1024) with random weights and random
// calibration Hessians — H fix, Cholesky and the lazy-block feedback loop, as `qat ptq` runs them per
// layer — and SINQ (tiles of 64, 16 Sinkhorn steps) against RTN `asym` on the same tiles, on the same
// weights, at 4 and 3 bits. One iteration quantizes all 16 layers. Eigen's products use OpenMP, so run
// with OMP_NUM_THREADS=2:
//   OMP_NUM_THREADS=2 build/tests/ptq_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/optq.h"
#include "quant/ptq/rtn.h"
#include "quant/ptq/sinq.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

struct Linear {
  Eigen::MatrixXd w;  // [out, in], N(0, 0.02²) like a trained transformer's scale
  Eigen::MatrixXd h;  // XᵀX/N of 2·in correlated random rows
};

// BERT-small's 16 linears, generated once (not timed).
const std::vector<Linear>& bert_small_linears() {
  static const std::vector<Linear> layers = [] {
    const int64_t shapes[4][2] = {{768, 256}, {256, 256}, {1024, 256}, {256, 1024}};
    std::vector<Linear> out;
    uint64_t seed = 1;
    for (int layer = 0; layer < 4; ++layer)
      for (const auto& [rows, cols] : shapes) {
        out.push_back(
            {0.02 * test::gaussian(rows, cols, seed), test::sample_hessian(cols, 2 * cols, seed + 1)});
        seed += 2;
      }
    return out;
  }();
  return layers;
}

void optq_bert_small_16_linears(benchmark::State& state) {
  const auto& layers = bert_small_linears();
  const auto bits = static_cast<int>(state.range(0));
  for (auto _ : state)
    for (const Linear& l : layers) {
      Eigen::MatrixXd w = l.w;
      const FixedHessian fixed = fix_hessian(l.h, w, 0.01);
      benchmark::DoNotOptimize(optq_quantize(w, fixed.h, {.bits = bits}).codes);
    }
}

void sinq_bert_small_16_linears(benchmark::State& state) {
  const auto& layers = bert_small_linears();
  const auto bits = static_cast<int>(state.range(0));
  for (auto _ : state)
    for (const Linear& l : layers)
      benchmark::DoNotOptimize(sinq_quantize(l.w, {.bits = bits, .group_size = 64}));
}

// RTN `asym` on the tiles SINQ uses (64 columns): SINQ without its Sinkhorn scales.
void rtn_bert_small_16_linears(benchmark::State& state) {
  const auto& layers = bert_small_linears();
  const auto bits = static_cast<int>(state.range(0));
  for (auto _ : state)
    for (const Linear& l : layers) benchmark::DoNotOptimize(rtn_quantize(l.w, GridKind::asym, bits, 64));
}

BENCHMARK(optq_bert_small_16_linears)->Arg(4)->Arg(3)->Unit(benchmark::kMillisecond);
BENCHMARK(sinq_bert_small_16_linears)->Arg(4)->Arg(3)->Unit(benchmark::kMillisecond);
BENCHMARK(rtn_bert_small_16_linears)->Arg(4)->Arg(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qat::ptq
