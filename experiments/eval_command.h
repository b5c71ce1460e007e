#pragma once
// `qat eval`: evaluates a trained checkpoint on the test split of the config stored inside it.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat eval CHECKPOINT [--set ...]`; returns the JSON result line (test_accuracy, test_loss, ...).
std::string run_eval(const CommandLine& line);

}  // namespace qat
