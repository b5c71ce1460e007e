#pragma once
// ReportPage: the self-contained HTML page of `qat report` — inline CSS and inline svg plots, no script,
// no URL, system fonts — so that it opens offline.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/report_cell.h"
#include "experiments/report_plots.h"

namespace qat {

/// What the page shows.
struct ReportPage {
  std::string title;
  std::vector<const ReportRun*> runs;
  const std::vector<ReportCell>* cells = nullptr;
  nlohmann::json findings;  ///< check_findings' output
  nlohmann::json problems;  ///< directories left out and unreadable checkpoints
  std::vector<ReportPlot> plots;
  std::string command;  ///< the command line
  std::string date;     ///< the only line that differs between reruns

  /// The whole page.
  std::string html() const;
};

/// `text` with &, <, > and quotes as HTML entities.
std::string html_escape(const std::string& text);

}  // namespace qat
