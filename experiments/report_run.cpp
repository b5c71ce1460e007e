#include "experiments/report_run.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "engine/error.h"
#include "experiments/prediction_metrics.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::array<const char*, 3> kCheckpoints = {"model.h5", "best.h5", "last.h5"};

bool holds_run(const fs::path& dir) {
  if (fs::exists(dir / "result.json")) return true;
  return std::any_of(kCheckpoints.begin(), kCheckpoints.end(),
                     [&](const char* name) { return fs::exists(dir / name); });
}

// The runs in a directory's subdirectories, sorted.
std::vector<std::string> runs_under(const fs::path& dir) {
  std::vector<std::string> runs;
  if (!fs::is_directory(dir)) return runs;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && holds_run(entry.path())) runs.push_back(entry.path().string());
  std::sort(runs.begin(), runs.end());
  return runs;
}

json read_result(const fs::path& path) {
  if (!fs::exists(path)) return json::object();
  std::ifstream in(path);
  json result = json::parse(in, nullptr, false);
  QAT_CHECK(!result.is_discarded() && result.is_object(), path.string(), ": not a JSON object");
  return result;
}

std::vector<double> epoch_losses(const fs::path& metrics) {
  std::vector<double> losses;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_discarded() && entry.value("phase", "") != "test")
      losses.push_back(entry.value("loss", std::nan("")));
  }
  return losses;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The number at `key`, NaN when absent or null.
double number(const json& object, const std::string& key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : kNaN;
}

// The first finite value.
double first_of(std::initializer_list<double> values) {
  for (const double v : values)
    if (std::isfinite(v)) return v;
  return kNaN;
}

double quality(const json& result, const json& measures, bool accuracy) {
  if (accuracy) return 100 * first_of({number(result, "test_accuracy"), number(measures, "accuracy")});
  return first_of({number(result, "test_perplexity"), std::exp(number(measures, "loss"))});
}

std::vector<int32_t> top1(const json& measures) {
  const auto it = measures.find("top1");
  return it != measures.end() && it->is_array() ? it->get<std::vector<int32_t>>() : std::vector<int32_t>{};
}

// ms per batch of `what` (fp32_ms, fake_ms, integer_ms) at `batch`, NaN when not timed.
double milliseconds(const json& measures, const std::string& what, int64_t batch) {
  const auto timing = measures.find("timing");
  if (timing == measures.end() || !timing->is_object()) return kNaN;
  for (const json& b : timing->value("batches", json::array()))
    if (b.value("batch", int64_t{0}) == batch) return number(b, what);
  return kNaN;
}

void add_timing(const json& measures, std::map<std::string, double>& v) {
  const auto timing = measures.find("timing");
  v["timing_load_average"] =
      timing != measures.end() && timing->is_object() ? number(*timing, "load_average") : kNaN;
  for (const int64_t batch : {int64_t{1}, int64_t{128}})
    for (const std::string what : {"fp32", "fake", "integer"}) {
      const double ms = milliseconds(measures, what + "_ms", batch);
      v[what + "_ms_b" + std::to_string(batch)] = ms;
      v[what + "_samples_per_s_b" + std::to_string(batch)] = 1e3 * static_cast<double>(batch) / ms;
    }
}

std::vector<std::pair<int64_t, double>> step_losses(const fs::path& steps) {
  std::vector<std::pair<int64_t, double>> losses;
  std::ifstream in(steps);
  for (std::string line; std::getline(in, line);) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_discarded() && entry.contains("step"))
      losses.emplace_back(entry.value("step", int64_t{0}), entry.value("loss", kNaN));
  }
  return losses;
}

}  // namespace

namespace {

// Every number a run has, in the column order of runs.csv; `cell_mean` marks the ones whose mean over seeds
// cells.csv reports beside the metric's summary.
struct ValueColumn {
  const char* name;
  bool cell_mean;
};
constexpr ValueColumn kValueColumns[] = {
    {"value", false},
    {"float_value", true},
    {"test_loss", false},
    {"flip_rate", true},
    {"ece", true},
    {"float_ece", true},
    {"spread", false},
    {"float_spread", false},
    {"spread_vs_float", true},
    {"size_bytes", true},
    {"float_size_bytes", false},
    {"compression", true},
    {"parameters", true},
    {"avg_weight_bits", true},
    {"avg_act_bits", true},
    {"gbops", true},
    {"fp32_ms_b1", true},
    {"fake_ms_b1", true},
    {"integer_ms_b1", true},
    {"fp32_ms_b128", true},
    {"fake_ms_b128", true},
    {"integer_ms_b128", true},
    {"fp32_samples_per_s_b1", false},
    {"fake_samples_per_s_b1", false},
    {"integer_samples_per_s_b1", false},
    {"fp32_samples_per_s_b128", false},
    {"fake_samples_per_s_b128", true},
    {"integer_samples_per_s_b128", true},
    {"timing_load_average", false},
    {"train_seconds", true},
    {"quantize_seconds", true},
};

std::vector<std::string> column_names(bool cell_means_only) {
  std::vector<std::string> names;
  for (const ValueColumn& column : kValueColumns)
    if (!cell_means_only || column.cell_mean) names.emplace_back(column.name);
  return names;
}

}  // namespace

const std::vector<std::string>& ReportRun::value_columns() {
  static const std::vector<std::string> columns = column_names(false);
  return columns;
}

const std::vector<std::string>& ReportRun::cell_mean_columns() {
  static const std::vector<std::string> columns = column_names(true);
  return columns;
}

std::map<std::string, double> ReportRun::values() const {
  const bool accuracy = higher_is_better();
  std::map<std::string, double> v;
  v["value"] = quality(result, measures, accuracy);
  v["float_value"] =
      accuracy ? first_of({100 * number(result, "float_test_accuracy"), 100 * number(reference, "accuracy")})
               : first_of({number(result, "float_test_perplexity"), std::exp(number(reference, "loss"))});
  v["test_loss"] = first_of({number(result, "test_loss"), number(measures, "loss")});
  v["flip_rate"] = 100 * flip_rate(top1(measures), top1(reference));
  v["ece"] = number(measures, "ece");
  v["float_ece"] = number(reference, "ece");
  v["spread"] = 100 * number(measures, "spread");
  v["float_spread"] = 100 * number(reference, "spread");
  v["spread_vs_float"] = v["spread"] - v["float_spread"];
  v["size_bytes"] = first_of({number(measures, "size_bytes"), number(result, "weight_size_bytes")});
  v["float_size_bytes"] = number(reference, "size_bytes");
  v["compression"] = v["float_size_bytes"] / v["size_bytes"];
  v["parameters"] = number(measures, "parameters");
  v["avg_weight_bits"] = first_of({number(measures, "avg_weight_bits"), number(result, "avg_weight_bits")});
  v["avg_act_bits"] = first_of({number(measures, "avg_act_bits"), number(result, "avg_act_bits")});
  v["gbops"] = first_of({number(measures, "gbops"), number(result, "gbops")});
  add_timing(measures, v);
  v["train_seconds"] = result.value("command", "") == "train" ? number(result, "seconds") : kNaN;
  v["quantize_seconds"] = number(result, "quantize_seconds");
  return v;
}

std::string ReportRun::metric() const { return key.model.rfind("gpt", 0) == 0 ? "perplexity" : "accuracy"; }

RunDiscovery discover_runs(const std::vector<std::string>& paths) {
  RunDiscovery found;
  for (const std::string& path : paths) {
    // A qat compare directory holds its runs in runs/; a directory of runs (qat ptq's per method) in itself.
    std::vector<std::string> expanded = runs_under(fs::path(path) / "runs");
    if (expanded.empty()) expanded = runs_under(path);
    if (holds_run(path))
      found.runs.push_back(path);
    else if (!expanded.empty())
      found.runs.insert(found.runs.end(), expanded.begin(), expanded.end());
    else
      found.not_runs.push_back(path);
  }
  return found;
}

ReportRun read_run(const std::string& dir) {
  ReportRun run;
  run.dir = dir;
  run.result = read_result(fs::path(dir) / "result.json");
  const fs::path normal = fs::path(dir).lexically_normal();
  const fs::path name = normal.has_filename() ? normal.filename() : normal.parent_path().filename();
  run.key = RunKey::of(run.result, name.string());
  for (const char* name : kCheckpoints)
    if (fs::exists(fs::path(dir) / name)) {
      run.checkpoint = (fs::path(dir) / name).string();
      break;
    }
  run.epoch_losses = epoch_losses(fs::path(dir) / "metrics.jsonl");
  run.step_losses = step_losses(fs::path(dir) / "steps.jsonl");
  return run;
}

}  // namespace qat
