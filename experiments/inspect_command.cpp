#include "experiments/inspect_command.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/rules_file.h"
#include "quant/cost_model.h"
#include "quant/export/packed_file.h"

namespace qat {
namespace {

void print_table(const std::vector<LayerCost>& layers) {
  std::fprintf(stderr, "%-40s %6s %6s %10s %14s %12s\n", "layer", "W bits", "A bits", "weights",
               "MACs/sample", "MBOPs");
  for (const LayerCost& l : layers)
    std::fprintf(stderr, "%-40s %6d %6d %10lld %14.0f %12.3f\n", l.path.c_str(), l.weight_bits, l.act_bits,
                 static_cast<long long>(l.weight_elements), l.macs, l.bops() / 1e6);
}

// A packed model file: per layer its bits, size and scales; totals against Σ numel·bits/8.
std::string inspect_packed(const std::string& path, const std::string& rules_out) {
  BitConfig config;
  const PackedModel packed = load_packed(path);
  std::fprintf(stderr, "%-32s %6s %6s %9s %9s %12s %12s\n", "layer", "W bits", "A bits", "weights", "bytes",
               "scale min", "scale max");
  std::string bits;
  for (const PackedLayer& l : packed.layers) {
    const auto [lo, hi] = std::minmax_element(l.weight.scale.begin(), l.weight.scale.end());
    const auto numel = static_cast<int64_t>(l.weight.codes.size());
    std::fprintf(stderr, "%-32s %6d %6s %9lld %9lld %12.4g %12.4g\n", l.path.c_str(), l.weight.bits,
                 l.input ? std::to_string(l.input->bits).c_str() : "f32", static_cast<long long>(numel),
                 static_cast<long long>(payload_bytes(l)), *lo, *hi);
    bits += (bits.empty() ? "" : ", ") + std::to_string(l.weight.bits);
    config.layers.push_back({.path = l.path, .w_bits = l.weight.bits, .a_bits = l.input ? l.input->bits : 0});
  }
  if (!rules_out.empty()) write_rules_file(config, rules_out);
  const double ideal = ideal_payload_bytes(packed);
  const int64_t payload = payload_bytes(packed), weights = weight_count(packed);
  std::fprintf(stderr, "total: %lld weights, %lld payload bytes (ideal %.1f), file %lld bytes\n",
               static_cast<long long>(weights), static_cast<long long>(payload), ideal,
               static_cast<long long>(std::filesystem::file_size(path)));
  JsonLine result;
  result.add("command", "inspect")
      .add("checkpoint", path)
      .add("format", "packed")
      .add("layers", static_cast<int64_t>(packed.layers.size()))
      .add("weights", weights)
      .add("avg_weight_bits", ideal * 8 / static_cast<double>(weights))
      .add("payload_bytes", payload)
      .add("ideal_payload_bytes", ideal)
      .add("payload_ratio", static_cast<double>(payload) / ideal)
      .add("file_bytes", static_cast<int64_t>(std::filesystem::file_size(path)))
      .add_raw("weight_bits", "[" + bits + "]");
  return result.str();
}

}  // namespace

std::string run_inspect(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat inspect: expected one CHECKPOINT argument");
  const std::string& path = line.positional[0];
  const std::string rules_out = line.get("rules-out");
  if (is_packed_file(path)) return inspect_packed(path, rules_out);
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  QAT_CHECK(!loaded.quantized.layers.empty(), "qat inspect: ", path,
            " holds a full-precision model (quant.method and ptq.method are none)");
  // One test batch through the model records each layer's MACs per sample (sequence lengths included).
  const auto data = make_pipeline(loaded.experiment, loaded.checkpoint.assets);
  BatchStream& test = data->test();
  test.start_epoch(0);
  Batch batch;
  QAT_CHECK(test.next(batch), "qat inspect: the test split of ", path, "'s config is empty");
  {
    NoGrad no_grad;
    loaded.model->eval();
    loaded.model->forward(Variable(batch.inputs));
  }
  const std::vector<LayerCost> layers = layer_costs(loaded.quantized);
  const config::Experiment& e = loaded.experiment;
  print_table(layers);
  const ModelCost total = total_cost(layers);
  std::string bits;
  BitConfig config;
  for (const LayerCost& l : layers) {
    bits += (bits.empty() ? "" : ", ") + std::to_string(l.weight_bits);
    config.layers.push_back(
        {.path = l.path, .w_bits = l.weight_bits, .a_bits = l.act_bits == kFloatBits ? 0 : l.act_bits});
  }
  // NIPQ's learned widths as its quantizers round them (bits()), the widths evaluation runs at.
  if (!rules_out.empty()) write_rules_file(config, rules_out);
  JsonLine result;
  result.add("command", "inspect")
      .add("checkpoint", path)
      .add("method", e.ptq().method() != "none" ? e.ptq().method() : e.quant().method())
      .add("layers", static_cast<int64_t>(layers.size()))
      .add("avg_weight_bits", total.avg_weight_bits)
      .add("avg_act_bits", total.avg_act_bits)
      .add("weight_size_bytes", total.weight_size_bits / 8)
      .add("gbops", total.gbops)
      .add_raw("weight_bits", "[" + bits + "]");
  return result.str();
}

}  // namespace qat
