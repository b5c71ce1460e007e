#pragma once
// `qat ptq`: post-training weight quantization of a trained checkpoint (../shared/design/PTQ.md).
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat ptq CONFIG [--set ...] [--out DIR]`: quantizes init_checkpoint's model block by block with
/// ptq.method on calibration images, evaluates it, and with --out writes DIR/model.h5, DIR/layers.csv and
/// DIR/result.json; returns the JSON result line.
std::string run_ptq(const CommandLine& line);

}  // namespace qat
