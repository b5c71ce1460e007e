// The range table covers the whole schema (a new numeric field without a row fails here, naming where the
// row goes), every row rejects values on both sides, defaults pass, and errors name the field path, also
// for --set overrides and for fields inside repeated messages.
#include "experiments/config_validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/config_loader.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace pb = google::protobuf;

// Every message type reachable from Experiment.
std::vector<const pb::Descriptor*> schema_messages() {
  std::vector<const pb::Descriptor*> out{config::Experiment::descriptor()};
  std::set<const pb::Descriptor*> seen{out.front()};
  for (size_t i = 0; i < out.size(); ++i)
    for (int f = 0; f < out[i]->field_count(); ++f)
      if (const pb::Descriptor* m = out[i]->field(f)->message_type(); m && seen.insert(m).second)
        out.push_back(m);
  return out;
}

TEST(ConfigValidation, EveryNumericFieldOfTheSchemaHasARangeRow) {
  int rows = 0;
  for (const pb::Descriptor* message : schema_messages())
    for (int i = 0; i < message->field_count(); ++i) {
      const pb::FieldDescriptor& field = *message->field(i);
      if (!is_numeric(field)) continue;
      ++rows;
      EXPECT_NE(find_range(field), nullptr)
          << field.full_name() << " (" << field.type_name() << ") has no valid-range row: add one to "
          << range_table_location(*message);
    }
  EXPECT_GT(rows, 60);  // the walk reached the nested messages
}

// The validation error for `experiment` with `assignment` applied ("" when it passes).
std::string error_for(const std::string& assignment) {
  config::Experiment e;
  e.set_name("x");
  return test::error_of([&] { apply_overrides(e, {assignment}, "test.pbtxt"); });
}

TEST(ConfigValidation, DefaultsPass) {
  config::Experiment e;
  EXPECT_NO_THROW(validate_experiment(e, "defaults"));
}

// Per row: a value just outside each finite end is refused with the field path and the config named.
TEST(ConfigValidation, EveryRowRefusesValuesOutsideItsRange) {
  for (const pb::Descriptor* message : schema_messages()) {
    if (message == config::QuantRule::descriptor()) continue;  // repeated: RepeatedMessagesNameTheElement
    // The field path from Experiment: every other message is a singular field of Experiment.
    std::string prefix;
    for (int f = 0; f < config::Experiment::descriptor()->field_count(); ++f)
      if (config::Experiment::descriptor()->field(f)->message_type() == message)
        prefix = config::Experiment::descriptor()->field(f)->name() + ".";
    for (int i = 0; i < message->field_count(); ++i) {
      const pb::FieldDescriptor& field = *message->field(i);
      const FieldRange* range = is_numeric(field) ? find_range(field) : nullptr;
      if (range == nullptr) continue;
      const std::string path = prefix + field.name();
      const bool integer = field.cpp_type() != pb::FieldDescriptor::CPPTYPE_FLOAT &&
                           field.cpp_type() != pb::FieldDescriptor::CPPTYPE_DOUBLE;
      const bool is_unsigned = field.cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64 ||
                               field.cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT32;
      const double step = integer ? 1 : 1e-3 * std::max(1.0, std::abs(range->min));
      std::vector<double> outside;
      if (std::isfinite(range->min) && !(is_unsigned && range->min == 0))
        outside.push_back(range->min_open ? range->min : range->min - step);
      if (std::isfinite(range->max))
        outside.push_back(range->max_open ? range->max : range->max + (integer ? 1 : 1e-3 * range->max));
      for (double v : outside) {
        if (range->zero_allowed && v == 0) continue;
        std::ostringstream value;
        value.precision(9);  // integers exactly (1e9 + 1 in 9 digits would print as 1e+09, inside the range)
        if (integer)
          value << static_cast<long long>(v);
        else
          value << v;
        const std::string message_text = error_for(path + "=" + value.str());
        const std::string named = path + (field.is_repeated() ? "[0]: " : ": ");
        EXPECT_NE(message_text.find(named), std::string::npos) << path << "=" << v << ": " << message_text;
        EXPECT_NE(message_text.find("test.pbtxt"), std::string::npos) << message_text;
      }
      if (!integer) {
        EXPECT_NE(error_for(path + "=nan").find(path), std::string::npos) << path;
        EXPECT_NE(error_for(path + "=inf").find(path), std::string::npos) << path;
      }
    }
  }
}

TEST(ConfigValidation, RepeatedMessagesNameTheElement) {
  config::Experiment e;
  e.mutable_quant()->add_rules()->set_weight_bits(4);
  e.mutable_quant()->add_rules()->set_weight_bits(1);
  const std::string message = test::error_of([&] { validate_experiment(e, "rules.pbtxt"); });
  EXPECT_NE(message.find("quant.rules[1].weight_bits: 1"), std::string::npos) << message;
  config::Experiment milestones;
  milestones.mutable_train()->add_milestones(2);
  milestones.mutable_train()->add_milestones(-1);
  EXPECT_NE(test::error_of([&] { validate_experiment(milestones, "m"); }).find("train.milestones[1]: -1"),
            std::string::npos);
}

TEST(ConfigValidation, RelationsBetweenFieldsNameBoth) {
  auto error = [](const std::vector<std::string>& overrides) {
    config::Experiment e;
    e.set_name("x");
    return test::error_of([&] { apply_overrides(e, overrides, "r.pbtxt"); });
  };
  const std::string warmup = error({"train.epochs=2", "train.warmup_epochs=3"});
  EXPECT_NE(warmup.find("train.warmup_epochs"), std::string::npos) << warmup;
  EXPECT_NE(warmup.find("train.epochs"), std::string::npos) << warmup;
  EXPECT_NE(error({"quant.bits_min=6", "quant.bits_max=4"}).find("quant.bits_max"), std::string::npos);
  EXPECT_NE(error({"quant.final_epochs=5"}).find("quant.final_epochs"), std::string::npos);
  EXPECT_NE(error({"model.hidden=100", "model.heads=3"}).find("model.heads"), std::string::npos);
  EXPECT_NE(error({"data.std=0.5,0.5"}).find("data.std"), std::string::npos);
  // Inside the ranges (0 where it means "off"), nothing is refused.
  EXPECT_EQ(error({"quant.first_last_bits=0", "ptq.act_bits=8", "train.epochs=1", "train.lr=1e-5"}), "");
}

}  // namespace
}  // namespace qat
