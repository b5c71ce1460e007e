#pragma once
// `qat compare`: runs the method × bit-width × seed matrix of a config and summarizes it.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat compare CONFIG [--set ...] [--out DIR]`: every (method, bits, seed) of the config's
/// `compare` section as one `qat train` run under DIR/runs/ (finished runs are kept, interrupted ones
/// resume), then writes DIR/compare.csv, DIR/compare.md and gnuplot PNGs; returns the JSON result line.
std::string run_compare(const CommandLine& line);

}  // namespace qat
