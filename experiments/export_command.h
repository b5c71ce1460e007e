#pragma once
// `qat export`: writes a trained checkpoint as a low-bit model for other runtimes.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat export CHECKPOINT --format onnx --out FILE [--set ...]`; returns the JSON result line
/// (out, format, nodes, bytes).
std::string run_export(const CommandLine& line);

}  // namespace qat
