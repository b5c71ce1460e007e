#include "experiments/report_cell.h"

#include <algorithm>
#include <tuple>

#include "experiments/pareto_front.h"

namespace qat {
namespace {

auto order(const RunKey& k) {
  return std::tie(k.model, k.experiment, k.method, k.w_bits, k.a_bits, k.budget);
}

void summarize_runs(ReportCell& cell) {
  std::vector<std::map<std::string, double>> values;
  values.reserve(cell.runs.size());
  for (const ReportRun* run : cell.runs) values.push_back(run->values());
  for (const std::string& column : ReportRun::value_columns()) {
    std::vector<double> sample;
    sample.reserve(values.size());
    for (const auto& v : values) sample.push_back(v.at(column));
    cell.stats[column] = summarize(sample);
  }
}

}  // namespace

std::vector<ReportCell> group_cells(const std::vector<ReportRun>& runs) {
  std::map<std::string, ReportCell> by_key;
  for (const ReportRun& run : runs) {
    ReportCell& cell = by_key[run.key.cell()];
    cell.key = run.key;
    cell.key.seed = 0;
    cell.metric = run.metric();
    cell.runs.push_back(&run);
  }
  std::vector<ReportCell> cells;
  for (auto& [name, cell] : by_key) {
    std::sort(cell.runs.begin(), cell.runs.end(), [](const ReportRun* a, const ReportRun* b) {
      return std::tie(a->key.seed, a->dir) < std::tie(b->key.seed, b->dir);
    });
    summarize_runs(cell);
    cells.push_back(std::move(cell));
  }
  std::sort(cells.begin(), cells.end(),
            [](const ReportCell& a, const ReportCell& b) { return order(a.key) < order(b.key); });
  return cells;
}

void mark_pareto_fronts(std::vector<ReportCell>& cells) {
  std::map<std::string, std::vector<size_t>> by_model;
  for (size_t i = 0; i < cells.size(); ++i) by_model[cells[i].key.model].push_back(i);
  for (const auto& [model, members] : by_model) {
    std::vector<ParetoPoint> points;
    for (const size_t i : members)
      points.push_back({.size = cells[i].mean("size_bytes"), .quality = cells[i].mean("value")});
    const bool higher = cells[members.front()].metric == "accuracy";
    for (const size_t p : pareto_front(points, higher)) cells[members[p]].pareto = true;
  }
}

}  // namespace qat
