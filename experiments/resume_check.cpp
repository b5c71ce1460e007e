#include "experiments/resume_check.h"

#include <google/protobuf/util/message_differencer.h>

#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/model_layout.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace pb = google::protobuf;

// Clears the field at a dotted path (e.g. "data.dir") so that the comparison ignores it.
void clear_path(pb::Message& message, const std::string& path) {
  const size_t dot = path.find('.');
  const pb::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(path.substr(0, dot));
  QAT_CHECK(field != nullptr, "resume: unknown field path '", path, "'");
  if (dot == std::string::npos) {
    message.GetReflection()->ClearField(&message, field);
    return;
  }
  if (message.GetReflection()->HasField(message, field))
    clear_path(*message.GetReflection()->MutableMessage(&message, field), path.substr(dot + 1));
}

}  // namespace

void check_resume_config(const std::string& checkpoint_path, const config::Experiment& now) {
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path);
  const auto stored_text = checkpoint.meta.find("config");
  QAT_CHECK(stored_text != checkpoint.meta.end(), "--resume: ", checkpoint_path,
            " has no stored config (not written by qat train)");
  config::Experiment stored = parse_experiment(stored_text->second, checkpoint_path + " (config attribute)");
  check_model_layout(checkpoint.meta, now.model(), checkpoint_path);
  config::Experiment current = now;
  for (const char* path : kResumableFields) {
    clear_path(stored, path);
    clear_path(current, path);
  }
  std::string differences;
  pb::util::MessageDifferencer differencer;
  // A field left at its default and one set to the same value are the same experiment.
  differencer.set_message_field_comparison(pb::util::MessageDifferencer::EQUIVALENT);
  differencer.set_scope(pb::util::MessageDifferencer::FULL);
  differencer.ReportDifferencesToString(&differences);
  if (differencer.Compare(stored, current)) return;
  std::string may_change;
  for (const char* path : kResumableFields)
    may_change += (may_change.empty() ? "" : ", ") + std::string(path);
  detail::fail("--resume: the config differs from the one the run in ", checkpoint_path,
               " was started with (only ", may_change, " may change; stored -> now):\n", differences,
               "start a new run with another --out, or --overwrite this one");
}

}  // namespace qat
