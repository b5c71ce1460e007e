#pragma once
// What `qat report` measures of one checkpoint on the test split of the config inside it: quality and
// alignment (accuracy, loss, top-1 per example, ECE, per-class spread), cost (packed bytes, bits, GBOPs,
// per-layer bits and MACs) and inference timing.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/inference_timing.h"

namespace qat {

/// {"key" (RunKey), "init_checkpoint", "accuracy", "loss", "top1", "ece", "spread", "parameters",
/// "size_bytes", "size_note", "avg_weight_bits", "avg_act_bits", "gbops", "layers": [{"path", "w_bits",
/// "a_bits", "weights", "macs"}], "timing", "test_limit"} of the checkpoint at `path` with `overrides`
/// applied to its config (a float reference takes its run's data.test_limit, so that both predict the
/// same examples); errors name the file.
nlohmann::json measure_checkpoint(const std::string& path, const TimingPlan& plan,
                                  const std::vector<std::string>& overrides = {});

}  // namespace qat
