#include "experiments/checkpoint_model.h"

#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/model_factory.h"
#include "experiments/model_layout.h"
#include "experiments/quant_setup.h"

namespace qat {

CheckpointModel load_checkpoint_model(const std::string& path, const std::vector<std::string>& overrides) {
  CheckpointModel out;
  out.checkpoint = load_checkpoint(path);
  const auto config = out.checkpoint.meta.find("config");
  QAT_CHECK(config != out.checkpoint.meta.end(), "checkpoint ", path,
            ": no 'config' attribute (not written by qat train)");
  out.experiment = parse_experiment(config->second, path + " (config attribute)");
  apply_overrides(out.experiment, overrides, path + " (config attribute)");
  check_model_layout(out.checkpoint.meta, out.experiment.model(), path);
  out.model = build_model(out.experiment.model());
  out.quantized = quantize_model(*out.model, out.experiment);
  out.model->load_state_dict(out.checkpoint.model);
  // A run that kept an EMA of its weights was evaluated, and is deployed, with the averages.
  if (!out.checkpoint.ema.empty()) out.model->load_state_dict(out.checkpoint.ema, true);
  return out;
}

}  // namespace qat
