#include "experiments/run_key.h"

#include <cstdio>
#include <regex>

namespace qat {
namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string model_label(const config::ModelConfig& m) {
  const config::ModelConfig defaults;
  std::string label = m.arch();
  if (m.arch() == "bert" || m.arch() == "gpt") {
    if (m.layers() != defaults.layers() || m.hidden() != defaults.hidden())
      label += format(" %gx", m.layers()) + std::to_string(m.hidden());
  } else if (m.arch() == "mobilenetv2") {
    if (m.width_multiplier() != defaults.width_multiplier()) label += format(" x%g", m.width_multiplier());
  } else if (m.width() != defaults.width()) {
    label += format(" w%g", m.width());
  }
  return label;
}

std::string budget_of(const config::QuantConfig& q) {
  if (!q.rules_file().empty()) {
    const std::string& path = q.rules_file();
    return "rules " + path.substr(path.find_last_of('/') + 1);
  }
  if (!q.learn_bits()) return "";
  if (q.target_gbops() > 0) return format("%.2f GBOPs", q.target_gbops());
  if (q.target_avg_bits() > 0) return format("avg %.1f", q.target_avg_bits());
  return "learned";
}

}  // namespace

RunKey RunKey::of(const config::Experiment& e) {
  RunKey key{.experiment = e.name(),
             .model = model_label(e.model()),
             .method = "none",
             .budget = "",
             .seed = static_cast<int64_t>(e.seed())};
  if (e.ptq().method() != "none") {
    key.method = e.ptq().method();
    key.w_bits = e.ptq().weight_bits();
    key.a_bits = e.ptq().act_bits() > 0 ? e.ptq().act_bits() : 32;
  } else if (e.quant().method() != "none") {
    key.method = e.quant().method();
    key.w_bits = e.quant().weight_bits();
    key.a_bits = e.quant().act_bits();
    key.budget = budget_of(e.quant());
  }
  return key;
}

RunKey RunKey::of(const nlohmann::json& result, const std::string& directory_name) {
  RunKey key{.experiment = result.value("name", ""),
             .model = result.value("model", "?"),
             .method = "?",
             .budget = "",
             .seed = 0};
  if (result.value("command", "") == "ptq") {
    key.method = result.value("method", "?");
    key.w_bits = result.value("weight_bits", 32);
    key.a_bits = result.value("act_bits", 0) > 0 ? result.value("act_bits", 32) : 32;
    key.seed = result.value("calib_seed", 0);
    return key;
  }
  static const std::regex compare_run(R"(([a-z_+]+)_w(\d+)a(\d+)_s(\d+))");
  std::smatch m;
  if (std::regex_match(directory_name, m, compare_run)) {
    key.method = m[1];
    key.w_bits = std::stoi(m[2]);
    key.a_bits = std::stoi(m[3]);
    key.seed = std::stoll(m[4]);
  }
  return key;
}

RunKey RunKey::from_json(const nlohmann::json& j) {
  return {.experiment = j.at("experiment"),
          .model = j.at("model"),
          .method = j.at("method"),
          .w_bits = j.at("w_bits"),
          .a_bits = j.at("a_bits"),
          .budget = j.at("budget"),
          .seed = j.at("seed")};
}

nlohmann::json RunKey::to_json() const {
  return {{"experiment", experiment}, {"model", model},   {"method", method}, {"w_bits", w_bits},
          {"a_bits", a_bits},         {"budget", budget}, {"seed", seed}};
}

std::string RunKey::cell() const {
  return experiment + "|" + model + "|" + method + "|" + std::to_string(w_bits) + "/" +
         std::to_string(a_bits) + "|" + budget;
}

std::string RunKey::bits_label() const {
  if (!budget.empty()) return budget;
  return format("W%g", w_bits) + format("A%g", a_bits);
}

}  // namespace qat
