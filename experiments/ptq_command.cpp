#include "experiments/ptq_command.h"

#include <google/protobuf/text_format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "experiments/calibration.h"
#include "experiments/config_loader.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/model_layout.h"
#include "experiments/output_location.h"
#include "experiments/quant_setup.h"
#include "layers/models/transformer_model.h"
#include "layers/sequential.h"
#include "quant/ptq/sequential_runner.h"
#include "quant/ptq/transformer_blocks.h"
#include "quant/quantizers/record_quantizer.h"
#include "trainers/checkpoint.h"
#include "trainers/evaluation.h"
#include "trainers/losses.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_block_cut(const Module& model, const config::Experiment& e) {
  QAT_CHECK(dynamic_cast<const Sequential*>(&model) || dynamic_cast<const TransformerModel*>(&model),
            "model.arch: qat ptq calibrates Sequential models and transformers block by block (resnet20, ",
            "resnet18, mobilenetv2, convnet, bert, gpt), not '", e.model().arch(), "'");
}

// The block cut of the model: Sequential CNNs by their children, Bert and Gpt by transformer layer, each
// block calibrated on `calibration` as the blocks before it turn it (run_ptq checked the model is one).
std::vector<ptq::RunnerBlock> model_blocks(Module& model, const Tensor& calibration) {
  if (auto* chain = dynamic_cast<Sequential*>(&model)) return ptq::sequential_blocks(*chain);
  return ptq::transformer_blocks(dynamic_cast<TransformerModel&>(model), {calibration});
}

Evaluation evaluate(Module& model, BatchStream& test) {
  return evaluate_model(model, test, [](const Variable& output, const Tensor& targets) {
    return classification_loss(output, targets);
  });
}

// One layer: quantize_layer under its Hessians (BAQ after its first pass) at the bits the policy gave it;
// its record quantizer keeps the record. The report's seconds include BAQ's first pass.
ptq::LayerReport quantize_one(const std::string& path, QuantizedLayer& layer,
                              const std::vector<Eigen::MatrixXd>& h, ptq::PtqOptions options) {
  const auto start = Clock::now();
  auto* record = dynamic_cast<RecordQuantizer*>(layer.weight_quantizer());
  QAT_CHECK(record, "qat ptq: layer '", path, "' has no record quantizer");
  options.bits = record->bits();
  const ptq::LayerWeight w = ptq::layer_weight(path, layer.layer());
  const bool baq = ptq::layer_method(w, options) == "baq";
  ptq::LayerResult r = ptq::quantize_layer(
      w, h, options, baq ? ptq::baq_first_pass(w, h, options) : std::vector<Eigen::VectorXd>{});
  record->set_record(r.record);
  r.report.seconds = seconds_since(start);
  return r.report;
}

void print_block(size_t index, size_t count, const std::string& path, const ptq::LayerReport* first,
                 const ptq::LayerReport* last, double elapsed) {
  double relative = 0.0, seconds = 0.0;
  for (const ptq::LayerReport* r = first; r != last; ++r) {
    relative += r->relative_loss;
    seconds += r->seconds;
  }
  const auto layers = static_cast<size_t>(last - first);
  std::fprintf(stderr,
               "ptq: block %zu/%zu %s: %zu layer(s), mean relative loss %.4g, %.2f s (%.1f s so far)\n",
               index + 1, count, path.c_str(), layers, layers ? relative / static_cast<double>(layers) : 0.0,
               seconds, elapsed);
}

// The sequential runner over the model's blocks on the calibration batch, one line on stderr per block.
std::vector<ptq::LayerReport> quantize_blocks(Module& model, const config::Experiment& e,
                                              const Tensor& calibration) {
  std::vector<ptq::RunnerBlock> blocks = model_blocks(model, calibration);
  const size_t count = blocks.size();
  const ptq::SequentialRunner runner(
      std::move(blocks), {.sequential = e.ptq().sequential(), .true_sequential = e.ptq().true_sequential()});
  const ptq::PtqOptions options = ptq_options(e.ptq());
  std::vector<ptq::LayerReport> reports;
  size_t reported = 0;
  const auto start = Clock::now();
  runner.run(
      {calibration},
      [&](const std::string& path, QuantizedLayer& layer, const std::vector<Eigen::MatrixXd>& h) {
        reports.push_back(quantize_one(path, layer, h, options));
      },
      [&](size_t i, const ptq::RunnerBlock& block) {
        print_block(i, count, block.path, reports.data() + reported, reports.data() + reports.size(),
                    seconds_since(start));
        reported = reports.size();
      });
  return reports;
}

// Σ ℓ over the layers and the mean bits per weight (BAQ: its rates), weighted by each layer's weights.
void add_layer_totals(JsonLine& result, const std::vector<ptq::LayerReport>& reports,
                      const QuantizedModel& quantized) {
  std::map<std::string, double> weights;
  for (const QuantizedSite& site : quantized.layers)
    weights[site.path] = static_cast<double>(site.layer->layer().weight().numel());
  double loss = 0.0, bits = 0.0, count = 0.0;
  for (const ptq::LayerReport& r : reports) {
    loss += r.loss;
    bits += r.bits * weights.at(r.path);
    count += weights.at(r.path);
  }
  result.add("total_loss", loss).add("weight_bits_mean", bits / count);
}

void write_outputs(const fs::path& out, Module& model, const config::Experiment& e, const DataPipeline& data,
                   const std::vector<ptq::LayerReport>& reports, const std::string& result) {
  std::string config;
  QAT_CHECK(google::protobuf::TextFormat::PrintToString(e, &config), "qat ptq: cannot print the config");
  std::map<std::string, std::string> meta = model_layout_meta(e.model());
  meta.emplace("config", config);
  save_checkpoint(
      (out / "model.h5").string(),
      {.model = model.state_dict(), .optimizer = {}, .ema = {}, .assets = data.assets(), .meta = meta});
  std::string csv = ptq::layer_report_header() + "\n";
  for (const ptq::LayerReport& r : reports) csv += ptq::layer_report_row(r) + "\n";
  write_file_atomically((out / "layers.csv").string(), csv);
  write_file_atomically((out / "result.json").string(), result + "\n");
}

}  // namespace

std::string run_ptq(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat ptq: expected one CONFIG argument");
  const auto start = Clock::now();
  const config::Experiment e = load_experiment(line.positional[0], line.overrides);
  const QuantPolicy policy = ptq_policy(e);     // config errors before any data is read
  check_block_cut(*build_model(e.model()), e);  // before the checkpoint, whose load would fail less clearly
  if (line.has("out"))
    prepare_output_directory(line.get("out"), {"model.h5", "layers.csv", "result.json"},
                             {.resume = false, .overwrite = line.has("overwrite")});
  std::map<std::string, Tensor> assets;
  const std::shared_ptr<Module> model = float_model(e, &assets);
  const auto data = make_pipeline(calibration_config(e), assets);
  const Evaluation float_test = evaluate(*model, data->test());
  std::fprintf(stderr, "ptq: float model %.2f%% (perplexity %.2f) on %lld test examples\n",
               100 * float_test.accuracy, std::exp(float_test.loss),
               static_cast<long long>(float_test.samples));
  const QuantizedModel quantized = quant::apply(*model, policy);
  QAT_CHECK(!quantized.layers.empty(), "quant.rules: model '", e.model().arch(),
            "' has no conv/linear layer left for qat ptq to quantize");
  const Tensor calibration = calibration_batch(*data, e.ptq().calib_samples()).inputs;
  model->eval();
  const auto quantize_start = Clock::now();
  const std::vector<ptq::LayerReport> reports = quantize_blocks(*model, e, calibration);
  const double quantize_seconds = seconds_since(quantize_start);
  const Evaluation test = evaluate(*model, data->test());
  JsonLine result;
  result.add("command", "ptq")
      .add("name", e.name())
      .add("model", e.model().arch())
      .add("method", e.ptq().method())
      .add("weight_bits", static_cast<int64_t>(e.ptq().weight_bits()))
      .add("act_bits", static_cast<int64_t>(e.ptq().act_bits()))
      .add("calib_samples", static_cast<int64_t>(e.ptq().calib_samples()))
      .add("calib_seed", static_cast<int64_t>(e.ptq().calib_seed()))
      .add("layers", static_cast<int64_t>(reports.size()))
      .add("test_examples", test.samples)
      .add("float_test_accuracy", float_test.accuracy)
      .add("test_accuracy", test.accuracy)
      .add("test_loss", test.loss)
      .add("float_test_perplexity", std::exp(float_test.loss))
      .add("test_perplexity", std::exp(test.loss));
  add_layer_totals(result, reports, quantized);
  add_cost(result, quantized);
  result.add("quantize_seconds", quantize_seconds).add("seconds", seconds_since(start));
  if (line.has("out")) write_outputs(line.get("out"), *model, e, *data, reports, result.str());
  return result.str();
}

}  // namespace qat
