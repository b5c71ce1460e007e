#pragma once
// `qat bench`: times training (or inference) steps of a model on random data, like
// ../shared/bench/torch_reference.py does for PyTorch, so the two print comparable JSON.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat bench --model NAME [--batch N] [--steps K] [--warmup W] [--mode train|infer]`; returns the
/// JSON line with ms_per_step (median over the timed steps) and samples_per_s.
std::string run_bench(const CommandLine& line);

}  // namespace qat
