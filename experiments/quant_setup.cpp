#include "experiments/quant_setup.h"

#include "engine/error.h"
#include "experiments/rules_file.h"
#include "quant/bit_freeze.h"
#include "quant/quant_method.h"

namespace qat {
namespace {

QuantizerOptions shared_options(const config::QuantConfig& c) {
  QAT_CHECK(c.noise() == "histogram" || c.noise() == "uniform", "quant.noise: unknown noise '", c.noise(),
            "' (known: histogram, uniform)");
  QAT_CHECK(c.init() == "faithful" || c.init() == "calibrated", "quant.init: unknown init '", c.init(),
            "' (known: faithful, calibrated)");
  return {.target = QuantTarget::weight,
          .bits = c.weight_bits(),
          .per_channel = c.per_channel(),
          .channels = 1,
          .is_signed = std::nullopt,
          .learn_bits = c.learn_bits(),
          .bits_min = c.bits_min(),
          .bits_max = c.bits_max(),
          .histogram_noise = c.noise() == "histogram",
          .calibrated_init = c.init() == "calibrated"};
}

std::vector<QuantRule> rules_of(const config::QuantConfig& c) {
  std::vector<QuantRule> rules;
  for (const auto& r : c.rules())
    rules.push_back({.name_pattern = r.name_pattern(),
                     .layer_type = r.layer_type(),
                     .weight_bits = r.has_weight_bits() ? std::optional<int>(r.weight_bits()) : std::nullopt,
                     .act_bits = r.has_act_bits() ? std::optional<int>(r.act_bits()) : std::nullopt,
                     .skip = r.skip()});
  if (!c.rules_file().empty()) {
    const std::vector<QuantRule> file = rules_file_policy(c.rules_file());
    rules.insert(rules.end(), file.begin(), file.end());
  }
  return rules;
}

// Input bits of a post-training rule: none or min-max (the ranges of every config field are in
// config_validation; a rules file's rules are not in the config, so their weight bits are checked here).
void check_ptq_rule(const config::QuantRule& r, const std::string& what) {
  QAT_CHECK(!r.has_weight_bits() || (r.weight_bits() >= 2 && r.weight_bits() <= 8), what,
            ".weight_bits: ", r.weight_bits(), " outside 2..8");
  QAT_CHECK(!r.has_act_bits() || r.act_bits() == 0 || r.act_bits() == 8, what, ".act_bits: ", r.act_bits(),
            " is neither 0 nor 8");
}

void check_ptq_bits(const config::Experiment& e) {
  for (int i = 0; i < e.quant().rules_size(); ++i)
    check_ptq_rule(e.quant().rules(i), "quant.rules[" + std::to_string(i) + "]");
  if (e.quant().rules_file().empty()) return;
  const std::vector<config::QuantRule> file = read_rules_file(e.quant().rules_file());
  for (size_t i = 0; i < file.size(); ++i)
    check_ptq_rule(file[i], "quant.rules_file " + e.quant().rules_file() + ": rule " + std::to_string(i));
}

}  // namespace

QuantPolicy quant_policy(const config::QuantConfig& c) {
  const QuantMethod& method = quant_method(c.method(), "quant.method", is_quantization_aware);
  QAT_CHECK(!c.per_channel() || method.per_channel_weights, "quant.per_channel: method '", c.method(),
            "' has per-tensor weights only (per-channel: ",
            quant_method_names([](const QuantMethod& m) { return m.per_channel_weights; }), ")");
  QAT_CHECK(!c.learn_bits() || method.learned_bits, "quant.learn_bits: method '", c.method(),
            "' cannot learn its bit-width (methods that can: ",
            quant_method_names([](const QuantMethod& m) { return m.learned_bits; }), ")");
  QAT_CHECK(c.learn_bits() || (c.target_avg_bits() <= 0 && c.target_gbops() <= 0),
            "quant.target_avg_bits / target_gbops: need quant.learn_bits: true");
  return {.method = c.method(),
          .weight_bits = c.weight_bits(),
          .act_bits = c.act_bits(),
          .first_last_bits = c.first_last_bits(),
          .quantize_attention = c.quantize_attention(),
          .rules = rules_of(c),
          .weight = shared_options(c),
          .activation = shared_options(c),
          .ptq = {}};
}

QuantizedModel quantize_model(Module& model, const config::QuantConfig& config) {
  if (config.method() == "none") return {};
  return quant::apply(model, quant_policy(config));
}

ptq::PtqOptions ptq_options(const config::PtqConfig& c) {
  return {.method = c.method(),
          .bits = c.weight_bits(),
          .group_size = c.group_size(),
          .grid = c.grid(),
          .rounding = c.rounding(),
          .incoherence = c.incoherence(),
          .rescale = c.rescale(),
          .transform_seed = c.transform_seed(),
          .greedy_passes = c.greedy_passes(),
          .unbiased = c.unbiased(),
          .damp = c.damp(),
          .block_size = c.block_size(),
          .act_order = c.act_order(),
          .sinkhorn_iters = c.sinkhorn_iters(),
          .kurtosis_gate = c.kurtosis_gate(),
          .baq_theta = c.baq_theta(),
          .baq_max_levels = c.baq_max_levels(),
          .baq_rate_match = c.baq_rate_match()};
}

QuantPolicy ptq_policy(const config::Experiment& e) {
  const config::PtqConfig& p = e.ptq();
  QAT_CHECK(e.quant().method() == "none", "quant.method: '", e.quant().method(), "' beside ptq.method '",
            p.method(),
            "': a model is quantized by one of them (quant.rules and quant.first_last_bits still "
            "select the layers qat ptq quantizes)");
  const ptq::PtqOptions options = ptq_options(p);
  ptq::check_options(options);
  check_ptq_bits(e);
  QuantizerOptions weight{.target = QuantTarget::weight, .per_channel = true, .is_signed = std::nullopt};
  return {.method = p.method(),
          .weight_bits = p.weight_bits(),
          .act_bits = p.act_bits(),
          .first_last_bits = e.quant().first_last_bits(),
          .quantize_attention = false,
          .rules = rules_of(e.quant()),
          .weight = weight,
          .activation = {.target = QuantTarget::activation, .is_signed = std::nullopt},
          .ptq = options};
}

QuantizedModel quantize_model(Module& model, const config::Experiment& e) {
  if (e.ptq().method() != "none") return quant::apply(model, ptq_policy(e));
  return quantize_model(model, e.quant());
}

void add_quant_hooks(TrainerOptions& options, const QuantizedModel& model, const config::Experiment& e) {
  const config::QuantConfig& c = e.quant();
  QAT_CHECK(c.final_epochs() >= 0 && c.final_epochs() <= e.train().epochs(),
            "quant.final_epochs: ", c.final_epochs(), " outside 0..train.epochs (", e.train().epochs(), ")");
  const int final_start = e.train().epochs() - c.final_epochs();
  const CostTarget target{
      .avg_bits = c.target_avg_bits(), .gbops = c.target_gbops(), .weight = c.cost_weight()};
  options.on_epoch_start = [model, target, final_start](int epoch) {
    const bool final_phase = epoch >= final_start;
    for (Quantizer* q : model.quantizers()) q->set_phase(final_phase ? QuantPhase::ste : QuantPhase::noise);
    if (final_phase) freeze_learned_bits(model, target);
  };
  if (target.avg_bits > 0 || target.gbops > 0) {
    options.extra_loss = [model, target] { return cost_loss(model, target); };
  }
}

void add_cost(JsonLine& result, const QuantizedModel& model) {
  const ModelCost cost = total_cost(layer_costs(model));
  result.add("avg_weight_bits", cost.avg_weight_bits)
      .add("avg_act_bits", cost.avg_act_bits)
      .add("weight_size_bytes", cost.weight_size_bits / 8)
      .add("gbops", cost.gbops);
}

}  // namespace qat
