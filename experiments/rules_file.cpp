#include "experiments/rules_file.h"

#include <google/protobuf/text_format.h>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "experiments/config_loader.h"

namespace qat {

std::string exact_pattern(const std::string& path) {
  std::string out = "^";
  for (const char c : path) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out + "$";
}

std::vector<config::QuantRule> read_rules_file(const std::string& path) {
  config::QuantRules file;
  load_text_message(path, file);
  return {file.rules().begin(), file.rules().end()};
}

std::vector<QuantRule> rules_file_policy(const std::string& path) {
  std::vector<QuantRule> rules;
  const std::vector<config::QuantRule> read = read_rules_file(path);
  for (size_t i = 0; i < read.size(); ++i) {
    const config::QuantRule& r = read[i];
    rules.push_back({.name_pattern = r.name_pattern(),
                     .layer_type = r.layer_type(),
                     .weight_bits = r.has_weight_bits() ? std::optional<int>(r.weight_bits()) : std::nullopt,
                     .act_bits = r.has_act_bits() ? std::optional<int>(r.act_bits()) : std::nullopt,
                     .skip = r.skip(),
                     .origin = "quant.rules_file " + path + ": rule " + std::to_string(i)});
  }
  return rules;
}

void write_rules_file(const BitConfig& bits, const std::string& path) {
  config::QuantRules file;
  for (const LayerBits& l : bits.layers) {
    config::QuantRule* r = file.add_rules();
    r->set_name_pattern(exact_pattern(l.path));
    r->set_weight_bits(l.w_bits);
    if (l.a_bits > 0) r->set_act_bits(l.a_bits);
  }
  std::string text;
  QAT_CHECK(google::protobuf::TextFormat::PrintToString(file, &text), path, ": cannot format the rules");
  write_file_atomically(path,
                        "# qat rules file: one exact rule per quantized layer (config::QuantRules)\n" + text);
}

}  // namespace qat
