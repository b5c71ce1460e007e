#include "experiments/bench_command.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "experiments/config_loader.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/optimizer_factory.h"
#include "experiments/packed_inference.h"
#include "experiments/precision_config.h"
#include "experiments/quant_setup.h"
#include "experiments/step_timing.h"
#include "trainers/losses.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

// Upper bounds that keep an absurd flag from allocating the machine away before anything runs.
constexpr int64_t kMaxBatch = 65536;
constexpr int64_t kMaxSteps = 1000000;

struct Workload {
  Shape input;
  int64_t classes = 0;
  bool tokens = false;  ///< input is s32 token ids and targets are per position
};

// The shapes of torch_reference.py: 28x28 single-channel images, or BERT token sequences of 128.
Workload workload(const std::string& model, int64_t batch) {
  if (model == "bert") return {.input = {batch, 128}, .classes = 8192, .tokens = true};
  return {.input = {batch, 1, 28, 28}, .classes = 10, .tokens = false};
}

Tensor random_ints(const Shape& shape, int64_t n, Generator& gen) {
  Tensor t = Tensor::empty(shape, DType::s32);
  int32_t* v = t.data<int32_t>();
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = static_cast<int32_t>(gen.below(n));
  return t;
}

// "--quant nipq:4/4" as the quant section of a config (first/last layers at 8 bits as in training).
config::QuantConfig quant_spec(const std::string& spec) {
  config::QuantConfig quant;
  const size_t colon = spec.find(':'), slash = spec.find('/');
  QAT_CHECK(colon != std::string::npos && slash != std::string::npos && slash > colon, "qat bench: --quant '",
            spec, "' is not METHOD:WBITS/ABITS (e.g. nipq:4/4)");
  quant.set_method(spec.substr(0, colon));
  try {
    quant.set_weight_bits(std::stoi(spec.substr(colon + 1, slash - colon - 1)));
    quant.set_act_bits(std::stoi(spec.substr(slash + 1)));
  } catch (const std::exception&) {
    detail::fail("qat bench: --quant '", spec, "' is not METHOD:WBITS/ABITS (e.g. nipq:4/4)");
  }
  return quant;
}

// Integer inference of a packed model against fp32 inference of its architecture (freshly initialized
// float weights: the time does not depend on their values) on the same random batch, interleaved step by
// step so that both see the same machine load.
std::string bench_packed(const CommandLine& line) {
  const std::string path = line.get("packed");
  const int64_t batch = line.get_int("batch", 128, 1, kMaxBatch);
  const auto steps = static_cast<int>(line.get_int("steps", 20, 1, kMaxSteps));
  const auto warmup = static_cast<int>(line.get_int("warmup", 5, 0, kMaxSteps));
  const PackedInference loaded = load_packed_inference(path, line.overrides);
  manual_seed(0);
  const auto fp32 = build_model(loaded.experiment.model());
  fp32->eval();
  const Tensor x = Generator(0).normal_tensor({batch, loaded.experiment.model().in_channels(), 28, 28});
  std::vector<double> integer_times, float_times;
  int64_t primitives_after_warmup = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup) primitives_after_warmup = static_cast<int64_t>(PrimitiveCache::get().created());
    const double integer = seconds_of([&] { loaded.model->forward(x); });
    const double real = seconds_of([&] {
      NoGrad no_grad;
      fp32->forward(Variable(x)).data().contiguous();
    });
    if (i < warmup) continue;
    integer_times.push_back(integer);
    float_times.push_back(real);
  }
  const double ms = median(integer_times) * 1e3, fp32_ms = median(float_times) * 1e3;
  JsonLine result;
  result.add("command", "bench")
      .add("framework", "qat")
      .add("model", loaded.experiment.model().arch())
      .add("mode", "infer")
      .add("packed", path)
      .add("inference", "integer")
      .add("batch", batch)
      .add("threads", static_cast<int64_t>(omp_get_max_threads()))
      .add("ms_per_step", ms)
      .add("samples_per_s", static_cast<double>(batch) / ms * 1e3)
      .add("fp32_ms_per_step", fp32_ms)
      .add("speedup_vs_fp32", fp32_ms / ms)
      .add("primitives_created_while_timed",
           static_cast<int64_t>(PrimitiveCache::get().created()) - primitives_after_warmup);
  return result.str();
}

// The benchmarked run as a config: the model of torch_reference.py's shapes (no dropout, as there), --quant
// as its quant section (first and last layers at 8 bits as in training), --precision as train.precision,
// SGD at lr 0.01 without Nesterov, then every --set.
config::Experiment bench_experiment(const CommandLine& line, const std::string& name, const Workload& w) {
  config::Experiment e;
  e.mutable_model()->set_arch(name);
  e.mutable_model()->set_num_classes(static_cast<int32_t>(w.classes));
  e.mutable_model()->set_vocab_size(static_cast<int32_t>(w.classes));
  e.mutable_model()->set_dropout(0.0f);
  const std::string quant = line.get("quant", "none");
  if (quant != "none") *e.mutable_quant() = quant_spec(quant);
  e.mutable_train()->set_precision(line.get("precision", "fp32"));
  e.mutable_train()->set_lr(0.01f);
  e.mutable_train()->set_nesterov(false);
  apply_overrides(e, line.overrides, "qat bench");
  return e;
}

// One benchmarked configuration: its model (quantized when the config says so), optimizer, the trainer's
// quantization hooks (NIPQ's noise phase, the cost loss of a bit target) and its precision.
struct BenchRun {
  std::shared_ptr<Module> model;
  QuantizedModel quantized;
  TrainerOptions hooks;
  std::unique_ptr<Optimizer> optimizer;
  Precision precision = Precision::f32;
};

std::unique_ptr<BenchRun> make_run(const config::Experiment& e) {
  manual_seed(0);
  auto run = std::make_unique<BenchRun>();
  run->precision = precision_of(e.train());
  run->model = build_model(e.model());
  run->quantized = quantize_model(*run->model, e.quant());
  if (!run->quantized.layers.empty()) {
    add_quant_hooks(run->hooks, run->quantized, e);
    run->hooks.on_epoch_start(0);
  }
  run->optimizer = build_optimizer(*run->model, e.train());
  return run;
}

// Seconds of one training step (forward, loss, backward, SGD step) or inference of `run` on (x, y).
double time_step(BenchRun& run, bool train, const Tensor& x, const Tensor& y) {
  const PrecisionScope precision(run.precision);
  const auto start = std::chrono::steady_clock::now();
  if (!train) {
    NoGrad no_grad;
    run.model->eval();
    run.model->forward(Variable(x)).data();
  } else {
    run.model->train();
    run.optimizer->zero_grad();
    Variable loss = classification_loss(run.model->forward(Variable(x)), y);
    if (run.hooks.extra_loss) loss = loss + run.hooks.extra_loss();
    loss.backward();
    run.optimizer->step();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string run_bench(const CommandLine& line) {
  QAT_CHECK(line.positional.empty(), "qat bench: unexpected argument '",
            line.positional.empty() ? "" : line.positional[0], "' (use --model NAME)");
  if (line.has("packed")) return bench_packed(line);
  const std::string name = line.get("model", "resnet20");
  const std::string mode = line.get("mode", "train");
  QAT_CHECK(mode == "train" || mode == "infer", "qat bench: --mode must be train or infer, got '", mode, "'");
  const int64_t batch = line.get_int("batch", name == "bert" ? 32 : 128, 1, kMaxBatch);
  const auto steps = static_cast<int>(line.get_int("steps", 20, 1, kMaxSteps));
  const auto warmup = static_cast<int>(line.get_int("warmup", 5, 0, kMaxSteps));

  const Workload w = workload(name, batch);
  const config::Experiment e = bench_experiment(line, name, w);
  const auto run = make_run(e);
  // --baseline: the same model unquantized in fp32, its steps alternating with the run's so that both
  // see the same machine load.
  config::Experiment float_e = e;
  float_e.clear_quant();
  float_e.mutable_train()->set_precision("fp32");
  const auto baseline = line.has("baseline") ? make_run(float_e) : nullptr;
  Generator gen(0);
  const Tensor x = w.tokens ? random_ints(w.input, w.classes, gen) : gen.normal_tensor(w.input);
  const Tensor y = random_ints(w.tokens ? w.input : Shape{batch}, w.classes, gen);

  std::vector<double> times, baseline_times, ratios;
  int64_t primitives_after_warmup = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup) primitives_after_warmup = static_cast<int64_t>(PrimitiveCache::get().created());
    const double seconds = time_step(*run, mode == "train", x, y);
    const double baseline_seconds = baseline ? time_step(*baseline, mode == "train", x, y) : 0.0;
    if (i < warmup) continue;
    times.push_back(seconds);
    if (!baseline) continue;
    baseline_times.push_back(baseline_seconds);
    ratios.push_back(seconds / baseline_seconds);
  }
  const double ms = median(times) * 1e3;
  JsonLine result;
  result.add("command", "bench")
      .add("framework", "qat")
      .add("model", name)
      .add("mode", mode)
      .add("quant", line.get("quant", "none"))
      .add_raw("learn_bits", e.quant().learn_bits() ? "true" : "false")
      .add("target_avg_bits", static_cast<double>(e.quant().target_avg_bits()))
      .add("precision", e.train().precision())
      .add("batch", batch)
      .add("threads", static_cast<int64_t>(omp_get_max_threads()))
      .add("ms_per_step", ms)
      .add("samples_per_s", static_cast<double>(batch) / ms * 1e3);
  if (baseline)
    result.add("fp32_ms_per_step", median(baseline_times) * 1e3).add("ratio_to_fp32", median(ratios));
  result.add("primitives_created_while_timed",
             static_cast<int64_t>(PrimitiveCache::get().created()) - primitives_after_warmup);
  return result.str();
}

}  // namespace qat
