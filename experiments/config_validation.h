#pragma once
// The valid range of every numeric field of the experiment schema, in one table per message, checked in
// one place after the config file and every --set override are applied.
#include <google/protobuf/descriptor.h>

#include <limits>
#include <string>

#include "experiments/experiment.pb.h"

namespace qat {

/// Valid values of one numeric field: [min, max] (ends open when marked), optionally also 0 (= off).
struct FieldRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;      ///< min itself is invalid
  bool max_open = false;      ///< max itself is invalid
  bool zero_allowed = false;  ///< 0 is valid besides [min, max] (e.g. "0 = same as the others")
};

/// The range row of a numeric field; nullptr when its message's table has none (a schema field without a
/// row is a defect that config_validation_test reports).
const FieldRange* find_range(const google::protobuf::FieldDescriptor& field);
/// True for the field types that need a range row (integers and floating point, repeated or not).
bool is_numeric(const google::protobuf::FieldDescriptor& field);
/// "experiments/config_validation.cpp, table of <message>" — where a missing row goes.
std::string range_table_location(const google::protobuf::Descriptor& message);

/// Checks every numeric field (set or default) against its row — floats must also be finite — and the
/// relations between fields (warm-up within the epochs, bits_min below bits_max, ...). Errors name the
/// config `source`, the field path (e.g. "train.lr" or "quant.rules[1].weight_bits"), the value and the
/// valid range.
void validate_experiment(const config::Experiment& experiment, const std::string& source);

}  // namespace qat
