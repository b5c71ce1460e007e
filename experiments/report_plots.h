#pragma once
// The plots of the report page (EVALUATION.md, "The page"), drawn by gnuplot from data files the report
// writes: accuracy against bits, against size with the Pareto front, training loss, the bit-width maps of
// mixed-precision runs and timing.
#include <string>
#include <vector>

#include "experiments/gnuplot_svg.h"
#include "experiments/report_cell.h"

namespace qat {

/// One drawn plot.
struct ReportPlot {
  std::string section;  ///< "bits", "size", "loss", "bitmap", "timing"
  std::string title;
  std::string svg;   ///< inline svg ("" when nothing could be drawn)
  std::string note;  ///< what the reader should know (e.g. why a plot is missing)
};

/// Every plot of the page; gnuplot's failures go to `errors`.
std::vector<ReportPlot> draw_plots(const std::vector<ReportRun>& runs, const std::vector<ReportCell>& cells,
                                   const GnuplotSvg& gnuplot, std::vector<std::string>& errors);

}  // namespace qat
