#include "experiments/allocate_command.h"

#include <algorithm>
#include <chrono>
#include <sstream>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "experiments/calibration.h"
#include "experiments/config_loader.h"
#include "experiments/json_line.h"
#include "experiments/quant_setup.h"
#include "experiments/rules_file.h"
#include "quant/mixed_precision/allocation_problem.h"
#include "quant/mixed_precision/proxies/sensitivity_proxy.h"

namespace qat {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The command's options become fields of the allocate section (--set reaches them too).
void apply_options(const CommandLine& line, config::Experiment& e) {
  config::AllocateConfig& a = *e.mutable_allocate();
  if (line.has("proxy")) a.set_proxy(line.get("proxy"));
  if (line.has("budget")) a.set_budget(line.get("budget"));
  if (line.has("solver")) a.set_solver(line.get("solver"));
  if (line.has("beta")) apply_override(e, "allocate.ompq_beta=" + line.get("beta"));
  if (line.has("seed")) a.set_seed(static_cast<uint64_t>(line.get_int("seed", 1, 0)));
  if (line.has("bits")) {
    a.clear_bits();
    std::stringstream in(line.get("bits"));
    for (std::string part; std::getline(in, part, ',');) {
      QAT_CHECK(!part.empty() && part.find_first_not_of("0123456789") == std::string::npos, "--bits: '",
                line.get("bits"), "' is not a comma-separated list of integers");
      a.add_bits(std::stoi(part));
    }
  }
}

std::vector<int> choice_bits(const config::AllocateConfig& a) {
  std::vector<int> bits(a.bits().begin(), a.bits().end());
  if (bits.empty()) bits = {2, 3, 4, 5, 6, 8};
  std::sort(bits.begin(), bits.end());
  QAT_CHECK(std::adjacent_find(bits.begin(), bits.end()) == bits.end(),
            "allocate.bits: a width appears twice");
  for (const int b : bits) QAT_CHECK(b >= 2 && b <= 8, "allocate.bits: ", b, " outside 2..8");
  return bits;
}

Budget parse_budget(const std::string& text) {
  const size_t eq = text.find('=');
  const std::string kind = text.substr(0, eq == std::string::npos ? 0 : eq);
  double amount = 0;
  try {
    size_t used = 0;
    amount = std::stod(text.substr(eq + 1), &used);
    QAT_CHECK(used == text.size() - eq - 1, "");
  } catch (const std::exception&) {
    amount = -1;
  }
  const char* forms = "avg_bits=B, size_kb=K or gbops=G";
  QAT_CHECK(eq != std::string::npos && amount > 0, "allocate.budget: '", text, "' is not one of ", forms,
            " with a positive number");
  if (kind == "avg_bits") return {BudgetKind::avg_bits, amount, text};
  if (kind == "size_kb") return {BudgetKind::size_bytes, amount * 1000, text};
  if (kind == "gbops") return {BudgetKind::gbops, amount, text};
  detail::fail("allocate.budget: unknown budget '", kind, "' (known: ", forms, ")");
}

// The policy whose packed records the sizes count: quant's, or for a post-training config a per-channel
// min-max stand-in at ptq's bits (a per-row record stores the same fields).
QuantPolicy cost_policy(const config::Experiment& e) {
  if (e.quant().method() != "none") return quant_policy(e.quant());
  QAT_CHECK(e.ptq().method() != "none",
            "quant.method / ptq.method: qat allocate needs the method the bits are "
            "for (both are none)");
  QuantPolicy p = ptq_policy(e);
  p.method = "minmax";
  p.ptq = {};
  p.weight.per_channel = true;
  return p;
}

std::string json_array(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    std::ostringstream v;
    v.precision(9);
    v << values[i];
    out += (i ? ", " : "") + v.str();
  }
  return out + "]";
}

std::string bits_array(const BitConfig& bits) {
  std::string out = "[";
  for (size_t i = 0; i < bits.layers.size(); ++i)
    out += (i ? ", " : "") + std::to_string(bits.layers[i].w_bits);
  return out + "]";
}

}  // namespace

ProxyOptions proxy_options(const config::AllocateConfig& a) {
  // Each field's range is in config_validation; only their relation is checked here.
  QAT_CHECK(a.max_probes() >= a.min_probes(), "allocate.min_probes / max_probes: ", a.min_probes(), " / ",
            a.max_probes(), " (need min ≤ max)");
  return {.ompq_beta = a.ompq_beta(),
          .feature_samples = a.feature_samples(),
          .min_probes = a.min_probes(),
          .max_probes = a.max_probes(),
          .trace_tolerance = a.trace_tolerance(),
          .power_iterations = a.power_iterations(),
          .power_tolerance = a.power_tolerance(),
          .fisher_batches = a.fisher_batches(),
          .fisher_batch = a.fisher_batch(),
          .seed = a.seed(),
          .emq = EmqGenotype::seed()};
}

std::string run_allocate(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat allocate: expected one CONFIG argument");
  config::Experiment e = load_experiment(line.positional[0], line.overrides);
  apply_options(line, e);
  const config::AllocateConfig& a = e.allocate();
  QAT_CHECK(a.solver() == "dp" || a.solver() == "greedy", "allocate.solver: unknown solver '", a.solver(),
            "' (known: dp, greedy)");
  const std::vector<int> bits = choice_bits(a);
  const Budget budget = parse_budget(a.budget());
  const ProxyOptions options = proxy_options(a);
  const QuantPolicy policy = cost_policy(e);

  const auto data = make_pipeline(calibration_config(e));
  const Batch batch = calibration_batch(*data, e.ptq().calib_samples());
  // The quantized model: one forward records MACs and initializes the quantizers, then its packed records.
  const std::shared_ptr<Module> quantized_model = float_model(e);
  const QuantizedModel quantized = quant::apply(*quantized_model, policy);
  {
    NoGrad no_grad;
    quantized_model->eval();
    quantized_model->forward(Variable(batch.inputs));
  }
  const CostTable table = CostTable::of(*quantized_model, quantized);

  make_problem(
      table, bits, [](size_t, int) { return 0.0; }, budget);  // the budget's bounds, before the proxy

  std::vector<std::string> paths;
  for (const LayerCostEntry& l : table.layers())
    if (!l.fixed) paths.push_back(l.cost.path);
  const std::shared_ptr<Module> model = float_model(e);
  GradientProbe probe(*model, paths, batch.inputs, batch.targets);
  const ProxyScores scores = score_proxy(a.proxy(), probe, options);

  std::vector<Eigen::MatrixXd> weights;
  for (size_t l = 0; l < probe.layers(); ++l) {
    const Eigen::VectorXd w = probe.weight_vector(l);
    const int64_t rows = probe.weight(l).dim(0);
    weights.emplace_back(Eigen::Map<const Eigen::MatrixXd>(w.data(), w.size() / rows, rows).transpose());
  }
  const LayerValue value = [&](size_t l, int b) {
    return scores.form == ValueForm::linear ? scores.score[l] * b
                                            : -scores.score[l] * rtn_distortion(weights[l], b);
  };
  const auto solve_start = Clock::now();
  const AllocationProblem problem = make_problem(table, bits, value, budget);
  const Allocation dp = solve_dp(problem.sets, problem.budget);
  const double dp_seconds = seconds_since(solve_start);
  const Allocation greedy = solve_greedy(problem.sets, problem.budget);
  const FractionalAllocation lp = solve_lp(problem.sets, problem.budget);
  const BitConfig chosen = allocated_bits(table, problem, a.solver() == "dp" ? dp : greedy);
  if (line.has("out")) write_rules_file(chosen, line.get("out"));

  const ModelCost totals = table.totals(chosen);
  int negative = 0;
  for (const double r : scores.raw) negative += r < 0;
  JsonLine result;
  result.add("command", "allocate")
      .add("proxy", a.proxy())
      .add("solver", a.solver())
      .add("budget", a.budget())
      .add("layers", static_cast<int64_t>(chosen.layers.size()))
      .add("allocated_layers", static_cast<int64_t>(problem.sets.size()))
      .add_raw("weight_bits", bits_array(chosen))
      .add("budget_avg_bits", budget_measure(table, chosen, BudgetKind::avg_bits))
      .add("avg_weight_bits", totals.avg_weight_bits)
      .add("avg_act_bits", totals.avg_act_bits)
      .add("weight_size_bytes", totals.weight_size_bits / 8)
      .add("size_bytes", static_cast<int64_t>(table.size_bytes(chosen)))
      .add("gbops", totals.gbops)
      .add("objective_dp", dp.value)
      .add("objective_greedy", greedy.value)
      .add("objective_lp", lp.value)
      .add_raw("lp_bits", json_array(lp.bits))
      .add("dp_states", dp.states)
      .add("dp_cost_scale", dp.cost_scale)
      .add("dp_seconds", dp_seconds)
      .add_raw("scores", json_array(scores.score))
      .add_raw("raw_scores", json_array(scores.raw))
      .add("negative_raw_scores", static_cast<int64_t>(negative))
      .add("proxy_passes", scores.passes)
      .add("proxy_seconds", scores.seconds);
  if (!scores.standard_error.empty())
    result.add_raw("standard_errors", json_array(scores.standard_error))
        .add("probes", static_cast<int64_t>(scores.probes));
  if (line.has("out")) result.add("rules_file", line.get("out"));
  return result.str();
}

}  // namespace qat
