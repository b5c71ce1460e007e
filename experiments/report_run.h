#pragma once
// ReportRun: one run directory as `qat report` reads it — what qat train / qat ptq wrote (result.json,
// metrics.jsonl, the checkpoint) and what the report measured of its checkpoint and float reference.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/run_key.h"

namespace qat {

/// One run.
struct ReportRun {
  std::string dir;
  RunKey key;
  nlohmann::json result = nlohmann::json::object();    ///< result.json; empty when absent
  std::string checkpoint;                              ///< model.h5, else best.h5, else last.h5; "" when none
  std::string checkpoint_error;                        ///< why the checkpoint could not be measured
  nlohmann::json measures = nlohmann::json::object();  ///< measure_checkpoint's output; empty when none
  std::string reference_checkpoint;                    ///< the float model it is compared with
  nlohmann::json reference = nlohmann::json::object();  ///< measures of the float model; empty when none
  std::vector<double> epoch_losses;                     ///< training loss per epoch (metrics.jsonl)
  std::vector<std::pair<int64_t, double>> step_losses;  ///< (step, training loss) from steps.jsonl

  /// "accuracy" (percent) or "perplexity" (language models).
  std::string metric() const;
  bool higher_is_better() const { return metric() == "accuracy"; }
  /// Every number of the run by column name (value_columns()); NaN where unknown.
  std::map<std::string, double> values() const;
  /// The numeric columns of runs.csv, in order.
  static const std::vector<std::string>& value_columns();
  /// The columns whose mean over seeds cells.csv reports (a subset of value_columns(), same order).
  static const std::vector<std::string>& cell_mean_columns();
};

/// The run directories among `paths` (a `qat compare` directory expands to its runs/*, any other
/// directory without a run of its own to its subdirectories that hold one, sorted) and the paths that
/// hold no run.
struct RunDiscovery {
  std::vector<std::string> runs;
  std::vector<std::string> not_runs;
};
RunDiscovery discover_runs(const std::vector<std::string>& paths);

/// Reads result.json (errors name a malformed one), metrics.jsonl and the checkpoint's name; the key
/// comes from result.json and the directory name until the checkpoint's config is read.
ReportRun read_run(const std::string& dir);

}  // namespace qat
