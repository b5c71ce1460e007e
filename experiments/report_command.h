#pragma once
// qat report RUN_DIRS... --out DIR: one page that compares every quantized model on quality, size and
// speed (../shared/design/EVALUATION.md), with runs.csv, cells.csv, layers.csv and findings.json.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs the report command; returns its JSON result line.
std::string run_report(const CommandLine& line);

}  // namespace qat
