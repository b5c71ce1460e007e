#pragma once
// Rules files (MIXED_PRECISION.md, "BitConfig"): a bit configuration as the text format of
// config::QuantRules, one exact rule per quantized layer, read through `quant.rules_file`.
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"
#include "quant/mixed_precision/bit_config.h"
#include "quant/quant_policy.h"

namespace qat {

/// The rules of `path`, each required to select a layer (errors name the file and the rule's layer).
std::vector<config::QuantRule> read_rules_file(const std::string& path);

/// The policy rules of `path`, each carrying its origin so that quant::apply names a layer the model lacks.
std::vector<QuantRule> rules_file_policy(const std::string& path);

/// Writes `bits` as a rules file through a temporary file and a rename; a layer with a_bits 0 (reading
/// the image) gets no act_bits.
void write_rules_file(const BitConfig& bits, const std::string& path);

/// The exact-path regex of a layer ("^layer1_0\\.conv1$").
std::string exact_pattern(const std::string& path);

}  // namespace qat
