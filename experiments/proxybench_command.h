#pragma once
// `qat proxybench build|rank|evolve CONFIG [--out DIR] [--proxy NAME|all]` (MIXED_PRECISION.md,
// "Mini-benchmark"): build measures sampled bit configs of init_checkpoint's model into DIR/bench.csv, row
// by row and resumable; rank writes every proxy's Kendall τ-b and Spearman ρ against those measurements to
// DIR/rank.csv; evolve searches EMQ's expression trees on the search half into DIR/emq_evolved.json.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs the subcommand; returns its JSON result line.
std::string run_proxybench(const CommandLine& line);

}  // namespace qat
