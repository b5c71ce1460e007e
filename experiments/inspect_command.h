#pragma once
// `qat inspect`: bits per layer, weight size and BOPs of a trained (quantized) model.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat inspect CHECKPOINT [--set ...]`: prints a per-layer table on stderr; returns the JSON totals.
std::string run_inspect(const CommandLine& line);

}  // namespace qat
