#include "experiments/model_layout.h"

#include "engine/error.h"

namespace qat {

std::string model_layout(const config::ModelConfig& config) {
  return config.arch() == "gpt" ? "gpt-pre-ln" : "";
}

std::map<std::string, std::string> model_layout_meta(const config::ModelConfig& config) {
  const std::string layout = model_layout(config);
  if (layout.empty()) return {};
  return {{kModelLayoutAttribute, layout}};
}

void check_model_layout(const std::map<std::string, std::string>& meta, const config::ModelConfig& config,
                        const std::string& path) {
  const std::string expected = model_layout(config);
  if (expected.empty()) return;
  const auto found = meta.find(kModelLayoutAttribute);
  // Checkpoints of the post-LN gpt predate the attribute; their tensors load without complaint into the
  // pre-LN layers and give a model that computes something else.
  QAT_CHECK(found != meta.end(), "checkpoint ", path, ": model.arch '", config.arch(), "' without a '",
            kModelLayoutAttribute,
            "' attribute, so it was written by the post-LN gpt (before commit b172de1): its tensors have the "
            "names and shapes of this build's '",
            expected, "' layers but not their meaning; retrain it with qat train");
  QAT_CHECK(found->second == expected, "checkpoint ", path, ": ", kModelLayoutAttribute, " '", found->second,
            "', but this build's model.arch '", config.arch(), "' is '", expected, "'");
}

Checkpoint load_checkpoint_for(const std::string& path, const config::ModelConfig& config) {
  Checkpoint checkpoint = load_checkpoint(path);
  check_model_layout(checkpoint.meta, config, path);
  return checkpoint;
}

}  // namespace qat
