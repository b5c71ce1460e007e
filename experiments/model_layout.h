#pragma once
// The layout a checkpoint's weights belong to, for an architecture whose layers changed meaning under the
// same tensor names and shapes: gpt's post-LN stack (before commit b172de1) and its pre-LN stack.
#include <map>
#include <string>

#include "experiments/experiment.pb.h"
#include "trainers/checkpoint.h"

namespace qat {

/// The checkpoint attribute naming the layout.
inline constexpr const char* kModelLayoutAttribute = "model_layout";

/// The layout this build gives `config`'s architecture ("" when it has only ever had one).
std::string model_layout(const config::ModelConfig& config);

/// The attributes a checkpoint of `config` records: {model_layout: …}, or none when the layout is "".
std::map<std::string, std::string> model_layout_meta(const config::ModelConfig& config);

/// Fails, naming `path`, when the checkpoint attributes `meta` lack or contradict model_layout(config).
void check_model_layout(const std::map<std::string, std::string>& meta, const config::ModelConfig& config,
                        const std::string& path);

/// The checkpoint at `path`, checked to hold weights of the layout `config` builds (check_model_layout).
Checkpoint load_checkpoint_for(const std::string& path, const config::ModelConfig& config);

}  // namespace qat
