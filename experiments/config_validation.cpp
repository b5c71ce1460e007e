#include "experiments/config_validation.h"

#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "engine/error.h"

namespace qat {
namespace {

namespace pb = google::protobuf;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Row makers: [min, max]; (min, max]; 0 or [min, max].
constexpr FieldRange within(double min, double max = kInf) { return {.min = min, .max = max}; }
constexpr FieldRange above(double min, double max = kInf) {
  return {.min = min, .max = max, .min_open = true};
}
constexpr FieldRange below(double min, double max) {
  return {.min = min, .max = max, .min_open = false, .max_open = true};
}
constexpr FieldRange zero_or(double min, double max) {
  return {.min = min, .max = max, .min_open = false, .max_open = false, .zero_allowed = true};
}
// Any finite value (floats) or any value of the type (integers, e.g. seeds).
constexpr FieldRange any() { return {}; }

// Bits a quantizer's fake-quantization kernels hold (quant/quantizer.cpp: 1..16); fixed-width training
// and post-training use 2..8, what the integer kernels and the exports take.
constexpr double kMaxKernelBits = 16;

using Table = std::map<std::string, FieldRange>;

// One table per message of experiments/experiment.proto, keyed by its name; one row per numeric field.
// Upper limits on sizes keep a typo from allocating the machine away before anything else can fail.
const std::map<std::string, Table>& range_tables() {
  static const std::map<std::string, Table> tables{
      {"Experiment", {{"seed", any()}}},
      {"DataConfig",
       {{"train_limit", within(0)},  // 0 = all
        {"test_limit", within(0)},
        {"crop_padding", within(0, 64)},
        {"mean", any()},
        {"std", above(0)},
        {"prefetch", within(0, 64)},
        {"mlm_probability", above(0, 1)}}},
      {"ModelConfig",
       {{"in_channels", within(1, 1024)},
        {"num_classes", within(1, 100000)},
        {"width", within(1, 1024)},
        {"width_multiplier", above(0, 8)},
        {"dropout", below(0, 1)},
        {"layers", within(1, 48)},
        {"hidden", within(1, 4096)},
        {"heads", within(1, 64)},
        {"ffn", within(1, 16384)},
        {"vocab_size", within(8, 262144)},
        {"max_length", within(3, 4096)}}},  // [CLS], one token, [SEP]
      {"TrainConfig",
       {{"epochs", within(1, 100000)},
        {"batch_size", within(1, 65536)},
        {"lr", above(0)},
        {"momentum", below(0, 1)},
        {"weight_decay", within(0)},
        {"warmup_epochs", within(0)},
        {"eval_batch_size", within(1, 65536)},
        {"beta1", below(0, 1)},
        {"beta2", below(0, 1)},
        {"eps", above(0)},
        {"warmup_start", within(0, 1)},
        {"final_lr_fraction", within(0, 1)},
        {"milestones", within(0)},
        {"gamma", above(0)},
        {"grad_clip_norm", within(0)},  // 0 = off
        {"ema_decay", below(0, 1)},     // 0 = off
        {"label_smoothing", below(0, 1)},
        {"log_every_steps", within(0, 1e9)},
        {"collective_timeout_seconds", above(0)}}},                                 // 0 = off
      {"QuantRule", {{"weight_bits", within(2, 8)}, {"act_bits", zero_or(2, 8)}}},  // act 0: float inputs
      {"QuantConfig",
       {{"weight_bits", within(2, 8)},
        {"act_bits", within(2, 8)},
        {"first_last_bits", zero_or(2, 8)},  // 0 = the same as every other layer
        {"bits_min", within(1, kMaxKernelBits)},
        {"bits_max", within(1, kMaxKernelBits)},
        {"target_avg_bits", zero_or(1, kMaxKernelBits)},  // 0 = off
        {"target_gbops", within(0)},
        {"cost_weight", within(0)},
        {"final_epochs", within(0)},
        {"distill_temperature", above(0)}}},
      {"CompareConfig", {{"seeds", any()}}},
      {"ExportConfig", {{"opset", within(21, 21)}}},  // int4 QuantizeLinear needs 21; the writer emits 21
      {"PtqConfig",
       {{"weight_bits", within(2, 8)},
        {"act_bits", zero_or(8, 8)},  // 0 = full-precision inputs, 8 = min-max inputs
        {"group_size", within(0)},
        {"transform_seed", any()},
        {"greedy_passes", within(0, 9)},
        {"calib_samples", within(1, 1000000)},
        {"calib_seed", any()},
        {"damp", above(0)},
        {"block_size", within(1)},
        {"sinkhorn_iters", within(0, 10000)},
        {"kurtosis_gate", within(0)},
        {"baq_theta", above(0)},
        {"baq_max_levels", within(2, 256)}}},
      {"AllocateConfig",  // qat allocate (mixed precision)
       {{"bits", within(2, 8)},
        {"ompq_beta", above(0)},
        {"feature_samples", within(2, 1000000)},  // CKA centres the features
        {"min_probes", within(2, 100000)},        // a standard error needs two
        {"max_probes", within(1, 100000)},
        {"trace_tolerance", above(0)},
        {"power_iterations", within(1, 100000)},
        {"power_tolerance", above(0)},
        {"fisher_batches", within(1, 1000000)},
        {"fisher_batch", within(1, 65536)},
        {"seed", any()}}},
      {"ProxybenchConfig",  // qat proxybench (mixed precision)
       {{"bits", within(2, 8)},
        {"configs_per_band", within(0, 100000)},
        {"seed", any()},
        {"finetune_steps", within(0, 1000000)},
        {"eval_samples", within(1, 60000)},
        {"bootstrap_resamples", within(1, 1000000)},
        {"population", within(2, 100000)},
        {"generations", within(0, 1000000)},
        {"tournament", within(1, 1000)},
        {"evolve_seed", any()},
        {"ompq_betas", within(0)}}},
  };
  return tables;
}

bool contains(const FieldRange& r, double v) {
  if (r.zero_allowed && v == 0) return true;
  const bool low = r.min_open ? v > r.min : v >= r.min;
  const bool high = r.max_open ? v < r.max : v <= r.max;
  return low && high;
}

std::string describe(const FieldRange& r) {
  std::ostringstream out;
  if (r.zero_allowed) out << "0 or ";
  if (r.min == r.max) {
    out << r.min;
    return out.str();
  }
  out << (r.min_open ? "(" : "[") << r.min << ", " << r.max << (r.max_open || std::isinf(r.max) ? ")" : "]");
  return out.str();
}

double numeric_value(const pb::Message& m, const pb::FieldDescriptor& f, int index) {
  const pb::Reflection& r = *m.GetReflection();
  const bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f);
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f));
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f);
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f));
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f);
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f);
    default:
      detail::fail("config validation: ", f.full_name(), " is not numeric");
  }
}

void check_field(const pb::Message& m, const pb::FieldDescriptor& f, const std::string& path,
                 const std::string& source) {
  const FieldRange* range = find_range(f);
  QAT_CHECK(range != nullptr, "config ", source, ": field ", f.full_name(), " has no range row; add one to ",
            range_table_location(*f.containing_type()));
  // An unset field without a default in the schema means "not given" (a rule's bits inherit), not 0.
  if (!f.is_repeated() && !f.has_default_value() && !m.GetReflection()->HasField(m, &f)) return;
  const int count = f.is_repeated() ? m.GetReflection()->FieldSize(m, &f) : 1;
  for (int i = 0; i < count; ++i) {
    const double v = numeric_value(m, f, i);
    const std::string at = f.is_repeated() ? path + "[" + std::to_string(i) + "]" : path;
    QAT_CHECK(std::isfinite(v), "config ", source, ": ", at, ": ", v, " is not a finite number");
    QAT_CHECK(contains(*range, v), "config ", source, ": ", at, ": ", v, " is outside its valid range ",
              describe(*range));
  }
}

// Every numeric field of `m` and of its messages (set or not: declared defaults are checked too).
void check_message(const pb::Message& m, const std::string& prefix, const std::string& source) {
  const pb::Descriptor& d = *m.GetDescriptor();
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor& f = *d.field(i);
    const std::string path = prefix + f.name();
    if (is_numeric(f)) {
      check_field(m, f, path, source);
    } else if (f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      const pb::Reflection& r = *m.GetReflection();
      if (!f.is_repeated()) {
        check_message(r.GetMessage(m, &f), path + ".", source);
        continue;
      }
      for (int k = 0; k < r.FieldSize(m, &f); ++k)
        check_message(r.GetRepeatedMessage(m, &f, k), path + "[" + std::to_string(k) + "].", source);
    }
  }
}

// Relations between fields that no single row can state.
void check_relations(const config::Experiment& e, const std::string& source) {
  const std::string at = "config " + source + ": ";
  const auto& t = e.train();
  QAT_CHECK(t.warmup_epochs() <= t.epochs(), at, "train.warmup_epochs: ", t.warmup_epochs(),
            " exceeds train.epochs = ", t.epochs());
  QAT_CHECK(e.quant().final_epochs() <= t.epochs(), at, "quant.final_epochs: ", e.quant().final_epochs(),
            " exceeds train.epochs = ", t.epochs());
  QAT_CHECK(e.quant().bits_min() < e.quant().bits_max(), at, "quant.bits_min: ", e.quant().bits_min(),
            " must be below quant.bits_max = ", e.quant().bits_max());
  const auto& m = e.model();
  QAT_CHECK(m.hidden() % m.heads() == 0, at, "model.hidden: ", m.hidden(),
            " is not a multiple of model.heads = ", m.heads());
  const auto channels_fit = [&](int n) { return n <= 1 || n == m.in_channels(); };
  QAT_CHECK(channels_fit(e.data().mean_size()), at, "data.mean has ", e.data().mean_size(),
            " values; give one, or one per channel (model.in_channels = ", m.in_channels(), ")");
  QAT_CHECK(channels_fit(e.data().std_size()), at, "data.std has ", e.data().std_size(),
            " values; give one, or one per channel (model.in_channels = ", m.in_channels(), ")");
}

}  // namespace

bool is_numeric(const pb::FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_UINT32:
    case pb::FieldDescriptor::CPPTYPE_UINT64:
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return true;
    default:
      return false;
  }
}

const FieldRange* find_range(const pb::FieldDescriptor& field) {
  const auto table = range_tables().find(field.containing_type()->name());
  if (table == range_tables().end()) return nullptr;
  const auto row = table->second.find(field.name());
  return row == table->second.end() ? nullptr : &row->second;
}

std::string range_table_location(const pb::Descriptor& message) {
  const bool has_table = range_tables().count(message.name()) > 0;
  return "experiments/config_validation.cpp, range_tables(): " +
         (has_table ? "the table of " + message.name() : "a new table {\"" + message.name() + "\", {...}}");
}

void validate_experiment(const config::Experiment& experiment, const std::string& source) {
  check_message(experiment, "", source);
  check_relations(experiment, source);
}

}  // namespace qat
