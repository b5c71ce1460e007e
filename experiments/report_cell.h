#pragma once
// ReportCell: the runs of one (model, method, bits or budget) that differ only in seed, with every
// number of report_run.h summarized over them.
#include <map>
#include <string>
#include <vector>

#include "experiments/report_run.h"
#include "experiments/sample_summary.h"

namespace qat {

/// One cell.
struct ReportCell {
  RunKey key;  ///< seed 0
  std::string metric;
  std::vector<const ReportRun*> runs;
  std::map<std::string, SampleSummary> stats;  ///< per value column
  bool pareto = false;                         ///< on its model's size/quality front

  /// Mean of `column` over the runs (NaN when none is finite).
  double mean(const std::string& column) const { return stats.at(column).mean; }
};

/// Cells of `runs` ordered by model, method, weight bits, input bits, budget; their runs by seed, dir.
std::vector<ReportCell> group_cells(const std::vector<ReportRun>& runs);
/// Marks, per model, the cells on the Pareto front of (mean size, mean quality).
void mark_pareto_fronts(std::vector<ReportCell>& cells);

}  // namespace qat
