#pragma once
// `qat allocate CONFIG --proxy NAME --budget avg_bits=B|size_kb=K|gbops=G [--bits 2,3,4] [--solver dp|greedy]
// [--beta B] [--seed S] [--out RULES]`: scores the layers of init_checkpoint's float model by a sensitivity
// proxy, allocates their weight bits under the budget and writes the rules file (MIXED_PRECISION.md).
#include <string>

#include "experiments/command_line.h"
#include "experiments/experiment.pb.h"
#include "quant/mixed_precision/proxies/sensitivity_proxy.h"

namespace qat {

/// The proxies' settings of an allocate section (EMQ: the seed genotype); errors name the field.
ProxyOptions proxy_options(const config::AllocateConfig& a);

/// Runs the command; returns the JSON result line (bits per layer, objectives, size, bits, GBOPs, seconds).
std::string run_allocate(const CommandLine& line);

}  // namespace qat
