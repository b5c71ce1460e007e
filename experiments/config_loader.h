#pragma once
// Reading experiment configs (protobuf text format) and applying `--set field.path=value` overrides.
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"

namespace qat {

/// Parses text-format Experiment `text`; errors name `source` (a file or checkpoint), line, column and field.
config::Experiment parse_experiment(const std::string& text, const std::string& source);
/// Parses a text-format Experiment file; errors name the file, line, column and field.
config::Experiment load_experiment(const std::string& path);
/// Sets one field given "a.b.c=value" (any field of the schema); errors name the path.
void apply_override(config::Experiment& experiment, const std::string& assignment);
/// Parses a text-format protobuf file into `message`; errors name the file, line and column.
void load_text_message(const std::string& path, google::protobuf::Message& message);
/// Applies every override in order, then validates the result (config_validation.h); errors name `source`.
void apply_overrides(config::Experiment& experiment, const std::vector<std::string>& overrides,
                     const std::string& source);
/// load_experiment followed by apply_overrides.
config::Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace qat
