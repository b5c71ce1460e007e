#include "experiments/inference_timing.h"

#include <google/protobuf/text_format.h>
#include <omp.h>

#include <cstdlib>
#include <memory>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/model_factory.h"
#include "experiments/step_timing.h"
#include "quant/export/packed_model.h"
#include "quant/integer/integer_model.h"

namespace qat {
namespace {

// The integer model packed from a quantized model, or why the engine cannot run it.
struct IntegerPath {
  std::shared_ptr<Module> architecture;
  std::unique_ptr<IntegerModel> model;
  std::string unavailable;
};

IntegerPath integer_path(CheckpointModel& loaded) {
  IntegerPath path;
  if (loaded.quantized.layers.empty()) {
    path.unavailable = "full-precision model";
    return path;
  }
  try {
    std::string config;
    google::protobuf::TextFormat::PrintToString(loaded.experiment, &config);
    const PackedModel packed = pack_model(*loaded.model, config);
    path.architecture = build_model(loaded.experiment.model());
    path.model = std::make_unique<IntegerModel>(*path.architecture, packed);
  } catch (const Error& e) {
    path.unavailable = e.what();
  }
  return path;
}

void infer(Module& model, const Tensor& x) {
  NoGrad no_grad;
  model.forward(Variable(x)).data().contiguous();
}

nlohmann::json time_batch(CheckpointModel& loaded, Module& fp32, const IntegerPath& integer, const Tensor& x,
                          const TimingPlan& plan) {
  std::vector<double> fp32_s, fake_s, integer_s;
  for (int i = 0; i < plan.warmup + plan.steps; ++i) {
    const double f = seconds_of([&] { infer(fp32, x); });
    const double q = seconds_of([&] { infer(*loaded.model, x); });
    const double n = integer.model ? seconds_of([&] { integer.model->forward(x); }) : 0.0;
    if (i < plan.warmup) continue;
    fp32_s.push_back(f);
    fake_s.push_back(q);
    integer_s.push_back(n);
  }
  nlohmann::json out = {
      {"batch", x.dim(0)}, {"fp32_ms", median(fp32_s) * 1e3}, {"fake_ms", median(fake_s) * 1e3}};
  out["integer_ms"] = integer.model ? nlohmann::json(median(integer_s) * 1e3) : nlohmann::json(nullptr);
  return out;
}

}  // namespace

TimingPlan TimingPlan::named(const std::string& name) {
  if (name == "full") return {.batches = {1, 128}, .warmup = 5, .steps = 20};
  if (name == "quick") return {.batches = {128}, .warmup = 1, .steps = 3};
  QAT_CHECK(name == "off", "--timing: expected full, quick or off, got '", name, "'");
  return {};
}

nlohmann::json time_inference(CheckpointModel& loaded, const Tensor& example, const TimingPlan& plan) {
  double load[1] = {0};
  getloadavg(load, 1);  // recorded: timings on a loaded machine say so
  nlohmann::json out = {
      {"threads", omp_get_max_threads()}, {"load_average", load[0]}, {"batches", nlohmann::json::array()}};
  QAT_CHECK(example.ndim() > 0, "timing: no test batch to shape the inputs by");
  if (example.dtype() != DType::f32) {
    out["integer"] = "token inputs: not timed by qat report";
    return out;
  }
  manual_seed(0);
  const auto fp32 = build_model(loaded.experiment.model());
  fp32->eval();
  loaded.model->eval();
  const IntegerPath integer = integer_path(loaded);
  out["integer"] = integer.unavailable;
  Shape shape = example.shape();
  for (const int64_t batch : plan.batches) {
    shape[0] = batch;
    const Tensor x = Generator(0).normal_tensor(shape);
    out["batches"].push_back(time_batch(loaded, *fp32, integer, x, plan));
  }
  return out;
}

}  // namespace qat
