#pragma once
// RunKey: what identifies a run in `qat report` — (model, method, weight bits or budget, input bits) make
// its cell; the seed tells runs of one cell apart.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/experiment.pb.h"

namespace qat {

/// A run's identity. Full precision is method "none" at 32/32.
struct RunKey {
  std::string experiment;  ///< the config's name: runs of different experiments never share a cell
  std::string model;   ///< arch plus its non-default size ("convnet w4", "gpt 4x128", "mobilenetv2 x0.35")
  std::string method;  ///< the quant or ptq method
  int w_bits = 32;
  int a_bits = 32;
  std::string budget;  ///< mixed precision: "avg 3.0", "0.30 GBOPs", "rules NAME"; "" otherwise
  int64_t seed = 0;

  /// From the config stored in a checkpoint.
  static RunKey of(const config::Experiment& e);
  /// From result.json (qat ptq writes method and bits) and, for qat train, a compare run directory's
  /// name ("lsq_w4a4_s2"); fields neither gives stay at their defaults (method "?").
  static RunKey of(const nlohmann::json& result, const std::string& directory_name);
  static RunKey from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;

  bool is_float() const { return method == "none"; }
  /// "experiment|model|method|bits|budget": equal for runs that differ only in seed.
  std::string cell() const;
  /// "W4A4", "W3A32"-style label of the bits, or the budget.
  std::string bits_label() const;
};

}  // namespace qat
