#pragma once
// `qat train`: trains the model an experiment config describes and reports the result.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat train CONFIG [--set ...] [--out DIR] [--resume] [--stop-after N]`; returns the JSON result line.
std::string run_train(const CommandLine& line);

}  // namespace qat
