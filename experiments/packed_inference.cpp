#include "experiments/packed_inference.h"

#include "experiments/config_loader.h"
#include "experiments/model_factory.h"
#include "quant/export/packed_file.h"
#include "trainers/losses.h"

namespace qat {
namespace {

// The integer model as a Module, so that the shared evaluation loop runs it.
class IntegerModule : public Module {
 public:
  explicit IntegerModule(const IntegerModel& model) : model_(model) {}
  Variable forward(const Variable& x) override { return Variable(model_.forward(x.data())); }

 private:
  const IntegerModel& model_;
};

}  // namespace

PackedInference load_packed_inference(const std::string& path, const std::vector<std::string>& overrides) {
  PackedInference out;
  out.packed = load_packed(path);
  out.experiment = parse_experiment(out.packed.config, path + " (config attribute)");
  apply_overrides(out.experiment, overrides, path + " (config attribute)");
  out.architecture = build_model(out.experiment.model());
  out.model = std::make_shared<IntegerModel>(*out.architecture, out.packed);
  return out;
}

Evaluation evaluate_integer(const IntegerModel& model, BatchStream& data) {
  IntegerModule module(model);
  return evaluate_model(module, data, [](const Variable& output, const Tensor& targets) {
    return classification_loss(output, targets);
  });
}

}  // namespace qat
