#pragma once
// `qat export`: writes a trained checkpoint as a low-bit model for other runtimes.
#include <string>

#include "experiments/command_line.h"

namespace qat {

/// Runs `qat export CHECKPOINT --format onnx --out FILE [--text-data FILE] [--set ...]` (ResNet-20,
/// MobileNetV2, BERT classifier); --text-data also writes a text classifier's tokenized test split as
/// JSON for scripts/ort_eval.mjs. Returns the JSON result line (out, format, nodes, bytes, text_examples).
std::string run_export(const CommandLine& line);

}  // namespace qat
