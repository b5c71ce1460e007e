#pragma once
// InferenceTiming: fp32, fake-quantized and integer inference of one checkpoint's model, timed
// interleaved step by step in one process (as `qat bench --packed` does) so all three see the same load.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/checkpoint_model.h"

namespace qat {

/// How much `qat report` times: `full` (batches 1 and 128, 5 warm-up, median of 20), `quick` (batch 128,
/// 1 warm-up, 3 steps) or `off`.
struct TimingPlan {
  std::vector<int64_t> batches;
  int warmup = 0;
  int steps = 0;
  /// The plan of --timing NAME; errors name the flag.
  static TimingPlan named(const std::string& name);
};

/// Times `loaded` (its model, an fp32 model of the same architecture, and the integer model packed from
/// it when the engine runs it) on random inputs shaped like `example` [N, ...]. Returns
/// {"threads", "load_average" (1 min, when timed), "batches": [{"batch", "fp32_ms", "fake_ms",
/// "integer_ms"}], "integer": "" or the reason}.
nlohmann::json time_inference(CheckpointModel& loaded, const Tensor& example, const TimingPlan& plan);

}  // namespace qat
