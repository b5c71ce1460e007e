#include "experiments/proxybench_command.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <utility>

#include "autograd/grad_mode.h"
#include "datasets/data_loader.h"
#include "datasets/fashion_mnist.h"
#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/allocate_command.h"
#include "experiments/calibration.h"
#include "experiments/config_loader.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/optimizer_factory.h"
#include "experiments/proxybench_store.h"
#include "experiments/quant_setup.h"
#include "experiments/rules_file.h"
#include "quant/mixed_precision/allocation_problem.h"
#include "quant/mixed_precision/proxies/emq_evolution.h"
#include "quant/mixed_precision/proxies/sensitivity_proxy.h"
#include "quant/mixed_precision/rank_correlation.h"
#include "trainers/image_batches.h"
#include "trainers/losses.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The model of init_checkpoint quantized by quant's policy with the allocatable layers at `bits` (empty:
// as built), after one forward in evaluation mode on `inputs` (records MACs, initializes the quantizers).
struct QuantizedNet {
  std::shared_ptr<Module> model;
  QuantizedModel quantized;
};

QuantizedNet quantized_net(const config::Experiment& e, const std::map<std::string, Tensor>& weights,
                           const std::vector<std::string>& paths, const std::vector<int>& bits,
                           const Tensor& inputs) {
  QuantizedNet net{build_model(e.model()), {}};
  net.model->load_state_dict(weights);
  QuantPolicy policy = quant_policy(e.quant());
  for (size_t l = 0; l < bits.size(); ++l)
    policy.rules.push_back({.name_pattern = exact_pattern(paths[l]), .weight_bits = bits[l]});
  net.quantized = quant::apply(*net.model, policy);
  NoGrad no_grad;
  net.model->eval();
  net.model->forward(Variable(inputs));
  return net;
}

// Everything the subcommands share: the config, the float weights, the cost table and its layer paths.
struct Bench {
  config::Experiment e;
  std::string dir;
  std::map<std::string, Tensor> weights;
  Batch calibration;  ///< ptq.calib_samples training images, as qat allocate scores the layers on
  std::unique_ptr<CostTable> table;
  std::vector<std::string> paths;  ///< the allocatable layers
};

Bench open_bench(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 2, "qat proxybench: expected build|rank|evolve CONFIG");
  Bench b{load_experiment(line.positional[1], line.overrides), line.get("out", "proxybench"), {}, {}, {}, {}};
  QAT_CHECK(b.e.quant().method() != "none", "quant.method: qat proxybench quantizes with it (none given)");
  b.weights = float_model(b.e)->state_dict();
  const auto data = make_pipeline(calibration_config(b.e));
  b.calibration = calibration_batch(*data, b.e.ptq().calib_samples());
  QuantizedNet net = quantized_net(b.e, b.weights, {}, {}, b.calibration.inputs);
  b.table = std::make_unique<CostTable>(CostTable::of(*net.model, net.quantized));
  for (const LayerCostEntry& l : b.table->layers())
    if (!l.fixed) b.paths.push_back(l.cost.path);
  return b;
}

std::string csv_path(const Bench& b) { return (fs::path(b.dir) / "bench.csv").string(); }

// ---- build ----

// The last eval_samples training images, never fine-tuned on.
ImageDataset held_out_images(const config::Experiment& e) {
  const ImageDataset all =
      e.data().dir().empty() ? load_fashion_mnist("train") : load_fashion_mnist("train", e.data().dir());
  const int64_t n = e.proxybench().eval_samples();
  const int64_t tuned = static_cast<int64_t>(e.proxybench().finetune_steps()) * e.train().batch_size();
  QAT_CHECK(tuned + n <= all.size(), "proxybench.finetune_steps · train.batch_size (", tuned,
            ") + proxybench.eval_samples (", n, ") exceed the ", all.size(), " training images");
  ImageDataset tail = all;
  tail.images = all.images.slice_rows(all.size() - n, all.size());
  tail.labels.assign(all.labels.end() - n, all.labels.end());
  return tail;
}

Evaluation evaluate_on(Module& model, DataLoader& loader) {
  ImageBatches batches(loader);
  return evaluate_model(model, batches,
                        [](const Variable& out, const Tensor& t) { return classification_loss(out, t); });
}

// Quantizes, scores, fine-tunes finetune_steps SGD steps on the first images and scores again.
BenchRow measure(const Bench& b, const BenchConfig& c, DataPipeline& tune, DataLoader& held_out) {
  const auto start = Clock::now();
  manual_seed(b.e.seed());
  BenchRow row{.config = c};
  const BitConfig bits = config_bits(*b.table, c.bits);
  row.avg_weight_bits = budget_measure(*b.table, bits, BudgetKind::avg_bits);
  row.size_bytes = b.table->size_bytes(bits);
  row.gbops = b.table->totals(bits).gbops;
  QuantizedNet net = quantized_net(b.e, b.weights, b.paths, c.bits, b.calibration.inputs);
  const Evaluation ptq = evaluate_on(*net.model, held_out);
  row.acc_ptq = ptq.accuracy;
  Evaluation tuned = ptq;
  if (b.e.proxybench().finetune_steps() > 0) {
    const auto optimizer = build_optimizer(*net.model, b.e.train());
    TrainerOptions options{.epochs = 1, .schedule = schedule_options(b.e.train()), .label = "proxybench"};
    add_quant_hooks(options, net.quantized, b.e);
    Trainer trainer(*net.model, *optimizer, options,
                    [](const Variable& out, const Tensor& t) { return classification_loss(out, t); });
    ImageBatches batches(held_out);
    tuned = trainer.fit(tune.train(), batches).final_test;
  }
  row.acc_ft = tuned.accuracy;
  row.loss_ft = tuned.loss;
  row.seconds = seconds_since(start);
  return row;
}

// The rows already stored must be the first configs of this list (same settings, same checkpoint).
void check_stored(const std::vector<BenchRow>& rows, const std::vector<BenchConfig>& configs,
                  const std::string& path) {
  QAT_CHECK(rows.size() <= configs.size(), path, ": ", rows.size(), " rows, the settings give ",
            configs.size(), " configs");
  for (size_t i = 0; i < rows.size(); ++i)
    QAT_CHECK(rows[i].config.id == configs[i].id && rows[i].config.bits == configs[i].bits &&
                  rows[i].config.split == configs[i].split,
              path, ", line ", i + 2, ": config ", rows[i].config.id,
              " is not the one these settings sample (another seed, bits "
              "or checkpoint?); use another --out");
}

// bench.json: what every row was measured with (the sampling and fine-tuning settings, the checkpoint, the
// quantization and the layers). A resumed build must match it, so that no file mixes two protocols.
void check_protocol(const Bench& b) {
  config::Experiment protocol;
  *protocol.mutable_proxybench() = b.e.proxybench();
  for (const char* rank_only :
       {"bootstrap_resamples", "population", "generations", "tournament", "evolve_seed", "ompq_betas"})
    protocol.mutable_proxybench()->GetReflection()->ClearField(
        protocol.mutable_proxybench(), config::ProxybenchConfig::descriptor()->FindFieldByName(rank_only));
  *protocol.mutable_train() = b.e.train();
  *protocol.mutable_quant() = b.e.quant();
  *protocol.mutable_data() = b.e.data();
  protocol.set_seed(b.e.seed());
  protocol.set_init_checkpoint(b.e.init_checkpoint());
  std::string text;
  google::protobuf::TextFormat::PrintToString(protocol, &text);
  const json record{{"protocol", text}, {"layers", b.paths}};
  const std::string path = (fs::path(b.dir) / "bench.json").string();
  if (fs::exists(path)) {
    std::ifstream in(path);
    const json stored = json::parse(in, nullptr, false);
    QAT_CHECK(stored == record, path,
              ": the stored rows were measured with other settings or layers than these "
              "(compare its \"protocol\" with the config); use another --out");
    return;
  }
  write_file_atomically(path, record.dump(2) + "\n");
}

std::string build(const CommandLine& line) {
  const Bench b = open_bench(line);
  const config::ProxybenchConfig& p = b.e.proxybench();
  const std::vector<BenchConfig> configs = bench_configs(*b.table, p);
  const std::string path = csv_path(b);
  fs::create_directories(b.dir);
  check_protocol(b);
  std::vector<BenchRow> rows = read_bench_csv(path);
  check_stored(rows, configs, path);
  const size_t resumed = rows.size();
  config::Experiment tune_config = b.e;
  tune_config.mutable_data()->set_train_limit(static_cast<int64_t>(p.finetune_steps()) *
                                              b.e.train().batch_size());
  const auto tune = make_pipeline(tune_config);
  const ImageDataset held_out_set = held_out_images(b.e);
  const auto& d = b.e.data();
  DataLoader held_out(held_out_set, {.batch_size = b.e.train().eval_batch_size(),
                                     .mean = {d.mean().begin(), d.mean().end()},
                                     .stddev = {d.std().begin(), d.std().end()}});
  std::string text = bench_csv_header() + "\n";
  for (const BenchRow& r : rows) text += bench_csv_line(r) + "\n";
  const int64_t stop = line.get_int("stop-after", 0, 1);
  for (size_t i = rows.size(); i < configs.size(); ++i) {
    if (stop > 0 && std::cmp_greater_equal(i - resumed, stop)) break;
    rows.push_back(measure(b, configs[i], *tune, held_out));
    text += bench_csv_line(rows.back()) + "\n";
    write_file_atomically(path, text);  // the whole file each row: a kill never leaves half a row
    std::fprintf(stderr, "proxybench: %s\n", bench_csv_line(rows.back()).c_str());
  }
  return JsonLine()
      .add("command", "proxybench build")
      .add("bench", path)
      .add("rows", static_cast<int64_t>(rows.size()))
      .add("configs", static_cast<int64_t>(configs.size()))
      .add("resumed_rows", static_cast<int64_t>(resumed))
      .str();
}

// ---- proxies and their config scores ----

std::vector<BenchRow> stored_rows(const Bench& b) {
  std::vector<BenchRow> rows = read_bench_csv(csv_path(b));
  QAT_CHECK(!rows.empty(), csv_path(b), ": no benchmark rows (run qat proxybench build first)");
  for (const BenchRow& r : rows)
    QAT_CHECK(r.config.bits.size() == b.paths.size(), csv_path(b), ": config ", r.config.id, " has ",
              r.config.bits.size(), " widths, the model ", b.paths.size(), " allocatable layers");
  return rows;
}

std::vector<Eigen::MatrixXd> weight_matrices(GradientProbe& probe) {
  std::vector<Eigen::MatrixXd> weights;
  for (size_t l = 0; l < probe.layers(); ++l) {
    const Eigen::VectorXd w = probe.weight_vector(l);
    const int64_t rows = probe.weight(l).dim(0);
    weights.emplace_back(Eigen::Map<const Eigen::MatrixXd>(w.data(), w.size() / rows, rows).transpose());
  }
  return weights;
}

// A config's score: Σ s_l·b_l (linear) or −Σ Ω_l·‖Q_{b_l}(W_l) − W_l‖² (distortion), as allocation values it.
class ConfigScorer {
 public:
  explicit ConfigScorer(GradientProbe& probe) : weights_(weight_matrices(probe)) {}
  double operator()(const ProxyScores& s, const std::vector<int>& bits) {
    double total = 0;
    for (size_t l = 0; l < bits.size(); ++l)
      total += s.form == ValueForm::linear ? s.score[l] * bits[l] : -s.score[l] * distortion(l, bits[l]);
    return total;
  }

 private:
  double distortion(size_t l, int bits) {
    const auto key = std::make_pair(l, bits);
    const auto found = cache_.find(key);
    if (found != cache_.end()) return found->second;
    return cache_[key] = rtn_distortion(weights_[l], bits);
  }
  std::vector<Eigen::MatrixXd> weights_;
  std::map<std::pair<size_t, int>, double> cache_;
};

json genotype_json(const EmqGenotype& g) {
  return {{"inputs", {static_cast<int>(g.inputs[0]), static_cast<int>(g.inputs[1])}},
          {"unary", {{g.unary[0][0], g.unary[0][1]}, {g.unary[1][0], g.unary[1][1]}}},
          {"binary", g.binary},
          {"mean", g.mean},
          {"formula", g.str()}};
}

// The genotype evolve wrote to `path`.
EmqGenotype read_genotype(const std::string& path) {
  try {
    std::ifstream in(path);
    const json j = json::parse(in).at("genotype");
    EmqGenotype g;
    for (size_t b = 0; b < 2; ++b) {
      const int input = j.at("inputs").at(b).get<int>();
      QAT_CHECK(input >= 0 && input < 4, "input ", input, " outside 0..3");
      g.inputs[b] = static_cast<EmqInput>(input);
      for (size_t k = 0; k < 2; ++k) g.unary[b][k] = j.at("unary").at(b).at(k).get<int>();
    }
    g.binary = j.at("binary").get<int>();
    g.mean = j.at("mean").get<bool>();
    return g;
  } catch (const std::exception& error) {
    detail::fail(path, ": not an evolved EMQ genotype (", error.what(), ")");
  }
}

std::string evolved_path(const Bench& b) { return (fs::path(b.dir) / "emq_evolved.json").string(); }

// The proxies rank covers: the registry's, OMPQ once per β, EMQ's seed and (once evolved) its best.
struct RankedProxy {
  std::string label;  ///< row name: "ompq_beta3", "emq_evolved", else the proxy
  std::string proxy;  ///< the registry's name
  ProxyOptions options;
};

std::vector<RankedProxy> ranked_proxies(const Bench& b, const std::string& only) {
  std::string known;
  for (const std::string& n : proxy_names()) known += (known.empty() ? "" : ", ") + n;
  QAT_CHECK(only == "all" || std::count(proxy_names().begin(), proxy_names().end(), only) > 0,
            "--proxy: unknown proxy '", only, "' (known: all, ", known, ")");
  const ProxyOptions base = proxy_options(b.e.allocate());
  std::vector<float> betas(b.e.proxybench().ompq_betas().begin(), b.e.proxybench().ompq_betas().end());
  if (betas.empty()) betas = {0, 1, 3, 10, 100};
  std::vector<RankedProxy> out;
  for (const std::string& name : proxy_names()) {
    if (only != "all" && only != name) continue;
    if (name == "ompq") {
      for (const float beta : betas) {
        ProxyOptions o = base;
        o.ompq_beta = beta;
        std::ostringstream label;
        label << "ompq_beta" << beta;
        out.push_back({label.str(), name, o});
      }
      continue;
    }
    out.push_back({name, name, base});
    if (name == "emq" && fs::exists(evolved_path(b))) {
      ProxyOptions o = base;
      o.emq = read_genotype(evolved_path(b));
      out.push_back({"emq_evolved", name, o});
    }
  }
  return out;
}

// ---- rank ----

struct Cell {
  std::string split;
  int band = -1;  ///< -1: every band
};

const char* band_name(int band) {
  static const char* names[] = {"all", "low", "mid", "high"};
  return names[band + 1];
}

std::string rank_line(const std::string& proxy, const std::string& label, const Cell& cell,
                      const std::vector<double>& score, const std::vector<double>& truth, int resamples,
                      uint64_t seed) {
  std::ostringstream out;
  out.precision(4);
  out << proxy << "," << label << "," << cell.split << "," << band_name(cell.band) << ",";
  if (score.size() < 3) return out.str() + ",,,,,," + std::to_string(score.size());
  const Interval tau = bootstrap_interval(score, truth, kendall_tau_b, resamples, seed);
  const Interval rho = bootstrap_interval(score, truth, spearman_rho, resamples, seed);
  out << kendall_tau_b(score, truth) << "," << spearman_rho(score, truth) << "," << tau.low << "," << tau.high
      << "," << rho.low << "," << rho.high << "," << score.size();
  return out.str();
}

// proxies.csv: every ranked proxy's per-layer scores. rank reuses them (all but EMQ's, which are cheap and
// change with evolve) so that ranking again skips the Hessian proxies; delete the file to score anew.
using ScoreCache = std::map<std::string, ProxyScores>;

ScoreCache read_scores(const std::string& path, const std::vector<std::string>& paths) {
  ScoreCache cache;
  if (!fs::exists(path)) return cache;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  for (int number = 2; std::getline(in, line); ++number) {
    std::stringstream fields(line);
    std::vector<std::string> f;
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    QAT_CHECK(f.size() == 6, path, ", line ", number, ": ", f.size(), " fields, expected 6");
    ProxyScores& s = cache[f[0]];
    QAT_CHECK(s.paths.size() < paths.size() && paths[s.paths.size()] == f[1], path, ", line ", number,
              ": layer ", f[1], " is not the model's next allocatable layer");
    s.proxy = f[0];
    s.form = f[2] == "distortion" ? ValueForm::distortion : ValueForm::linear;
    s.paths.push_back(f[1]);
    try {
      s.score.push_back(std::stod(f[3]));
      s.raw.push_back(std::stod(f[4]));
      s.seconds = std::stod(f[5]);
    } catch (const std::exception&) {
      detail::fail(path, ", line ", number, ": not a number in ", line);
    }
  }
  return cache;
}

std::string scores_csv(const ScoreCache& cache) {
  std::ostringstream out;
  out.precision(9);
  out << "proxy,layer,form,score,raw,seconds\n";
  for (const auto& [label, s] : cache)
    for (size_t l = 0; l < s.paths.size(); ++l)
      out << label << "," << s.paths[l] << "," << (s.form == ValueForm::linear ? "linear" : "distortion")
          << "," << s.score[l] << "," << s.raw[l] << "," << s.seconds << "\n";
  return out.str();
}

// rank.csv's lines of one proxy: each label, half and band.
std::string rank_lines(const std::string& proxy, const std::vector<double>& predicted,
                       const std::vector<BenchRow>& rows, const config::ProxybenchConfig& p,
                       JsonLine& result) {
  std::string csv;
  for (const std::string_view label : {"acc_ft", "acc_ptq"})
    for (const std::string_view split : {"heldout", "search"})
      for (int band = -1; band < 3; ++band) {
        std::vector<double> score, truth;
        for (size_t i = 0; i < rows.size(); ++i) {
          const BenchRow& r = rows[i];
          if (r.config.split != split || (band >= 0 && r.config.band != band)) continue;
          score.push_back(predicted[i]);
          truth.push_back(label == "acc_ft" ? r.acc_ft : r.acc_ptq);
        }
        csv += rank_line(proxy, std::string(label), {std::string(split), band}, score, truth,
                         p.bootstrap_resamples(), p.seed()) +
               "\n";
        if (label == "acc_ft" && split == "heldout" && band < 0 && score.size() >= 3)
          result.add(proxy + "_heldout_tau", kendall_tau_b(score, truth));
      }
  return csv;
}

std::string rank(const CommandLine& line) {
  const Bench b = open_bench(line);
  const std::vector<BenchRow> rows = stored_rows(b);
  const std::vector<RankedProxy> proxies = ranked_proxies(b, line.get("proxy", "all"));
  const std::shared_ptr<Module> model = float_model(b.e);
  GradientProbe probe(*model, b.paths, b.calibration.inputs, b.calibration.targets);
  ConfigScorer config_score(probe);
  const std::string cache_path = (fs::path(b.dir) / "proxies.csv").string();
  ScoreCache cache = read_scores(cache_path, b.paths);
  std::string csv =
      "proxy,label,split,band,kendall_tau_b,spearman,tau_ci_low,tau_ci_high,rho_ci_low,rho_ci_high,n\n";
  JsonLine result;
  result.add("command", "proxybench rank").add("rows", static_cast<int64_t>(rows.size()));
  for (const RankedProxy& p : proxies) {
    if (p.proxy == "emq" || !cache.count(p.label)) {
      cache[p.label] = score_proxy(p.proxy, probe, p.options);
      write_file_atomically(cache_path, scores_csv(cache));
    }
    std::vector<double> predicted;
    predicted.reserve(rows.size());
    for (const BenchRow& r : rows) predicted.push_back(config_score(cache.at(p.label), r.config.bits));
    csv += rank_lines(p.label, predicted, rows, b.e.proxybench(), result);
  }
  write_file_atomically((fs::path(b.dir) / "rank.csv").string(), csv);
  return result.add("rank", (fs::path(b.dir) / "rank.csv").string()).str();
}

// ---- evolve ----

std::string evolve(const CommandLine& line) {
  const Bench b = open_bench(line);
  const std::vector<BenchRow> rows = stored_rows(b);
  const config::ProxybenchConfig& p = b.e.proxybench();
  std::vector<const BenchRow*> search, heldout;
  for (const BenchRow& r : rows) (r.config.split == "search" ? search : heldout).push_back(&r);
  QAT_CHECK(search.size() >= 3 && heldout.size() >= 3, csv_path(b), ": ", search.size(), " search and ",
            heldout.size(), " held-out rows; evolve needs three of each");
  const std::shared_ptr<Module> model = float_model(b.e);
  GradientProbe probe(*model, b.paths, b.calibration.inputs, b.calibration.targets);
  const std::vector<EmqLayerInputs> inputs = emq_inputs(probe, proxy_options(b.e.allocate()));
  const auto tau_on = [](const std::vector<const BenchRow*>& half) {
    return [&half](const std::vector<double>& layer_scores) {
      std::vector<double> score, truth;
      for (const BenchRow* r : half) {
        double total = 0;
        for (size_t l = 0; l < layer_scores.size(); ++l) total += layer_scores[l] * r->config.bits[l];
        score.push_back(total);
        truth.push_back(r->acc_ft);
      }
      return kendall_tau_b(score, truth);
    };
  };
  const auto start = Clock::now();
  const EmqEvolution evolution = evolve_emq(inputs, tau_on(search),
                                            {.population = p.population(),
                                             .generations = p.generations(),
                                             .tournament = p.tournament(),
                                             .seed = p.evolve_seed()});
  const double seconds = seconds_since(start);
  const EmqIndividual& best = evolution.population.front();
  const auto seed_scores = emq_layer_scores(EmqGenotype::seed(), inputs);
  json out{{"genotype", genotype_json(best.genotype)},
           {"search_tau", best.fitness},
           {"heldout_tau", tau_on(heldout)(best.scores)},
           {"seed_search_tau", tau_on(search)(*seed_scores)},
           {"seed_heldout_tau", tau_on(heldout)(*seed_scores)},
           {"search_rows", search.size()},
           {"heldout_rows", heldout.size()},
           {"population", p.population()},
           {"generations", p.generations()},
           {"evolve_seed", p.evolve_seed()},
           {"evaluated", evolution.evaluated},
           {"rejected", evolution.rejected},
           {"seconds", seconds}};
  json top = json::array();
  for (size_t i = 0; i < std::min<size_t>(5, evolution.population.size()); ++i)
    top.push_back({{"formula", evolution.population[i].genotype.str()},
                   {"search_tau", evolution.population[i].fitness},
                   {"heldout_tau", tau_on(heldout)(evolution.population[i].scores)}});
  out["top"] = top;
  write_file_atomically(evolved_path(b), out.dump(2) + "\n");
  return JsonLine()
      .add("command", "proxybench evolve")
      .add("formula", best.genotype.str())
      .add("search_tau", best.fitness)
      .add("heldout_tau", out["heldout_tau"].get<double>())
      .add("seed_heldout_tau", out["seed_heldout_tau"].get<double>())
      .add("seconds", seconds)
      .add("evolved", evolved_path(b))
      .str();
}

}  // namespace

std::string run_proxybench(const CommandLine& line) {
  QAT_CHECK(!line.positional.empty(), "qat proxybench: expected build|rank|evolve CONFIG");
  const std::string& what = line.positional[0];
  if (what == "build") return build(line);
  if (what == "rank") return rank(line);
  if (what == "evolve") return evolve(line);
  detail::fail("qat proxybench: unknown subcommand '", what, "' (known: build, rank, evolve)");
}

}  // namespace qat
