#pragma once
// The CSV files of `qat report`: runs.csv, cells.csv and layers.csv. Rows are sorted and numbers written
// with one fixed format ("%.6g", empty when unknown), so the same inputs give the same bytes.
#include <string>
#include <vector>

#include "experiments/report_cell.h"

namespace qat {

/// One row per run (sorted by cell, then seed and directory).
std::string runs_csv(const std::vector<ReportRun>& runs);
/// One row per cell: the metric's mean, std, min, max and n over seeds, and every other column's mean.
std::string cells_csv(const std::vector<ReportCell>& cells);
/// One row per run and quantized layer: weight and input bits, weights, MACs per sample.
std::string layers_csv(const std::vector<ReportRun>& runs);

/// "%.6g" of `value`; "" when it is not finite.
std::string format_number(double value);
/// `text` as a CSV field (quoted when it holds a comma, quote or line break).
std::string csv_field(const std::string& text);

}  // namespace qat
