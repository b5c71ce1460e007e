#include "experiments/report_plots.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "experiments/report_csv.h"

namespace qat {
namespace {

// A file-name-safe form of a label.
std::string slug(const std::string& text) {
  std::string out;
  for (const char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// A label as a quoted gnuplot data-file string.
std::string data_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? '\'' : c;
  return out + "\"";
}

std::vector<std::string> models_of(const std::vector<ReportCell>& cells) {
  std::vector<std::string> models;
  for (const ReportCell& c : cells)
    if (std::find(models.begin(), models.end(), c.key.model) == models.end()) models.push_back(c.key.model);
  return models;
}

std::string metric_label(const std::string& metric) {
  return metric == "accuracy" ? "test accuracy (%)" : "held-out perplexity";
}

ReportPlot draw(const GnuplotSvg& gnuplot, std::vector<std::string>& errors, ReportPlot plot,
                const std::string& script, int width = 720, int height = 420) {
  std::string error;
  plot.svg = gnuplot.render(slug(plot.section + "_" + plot.title), script, width, height, error);
  if (!error.empty()) errors.push_back(error);
  return plot;
}

ReportPlot accuracy_vs_bits(const std::string& model, const std::vector<ReportCell>& cells,
                            const GnuplotSvg& gnuplot, std::vector<std::string>& errors) {
  std::map<std::string, std::vector<const ReportCell*>> by_method;
  double reference = NAN;
  std::string metric = "accuracy";
  for (const ReportCell& c : cells) {
    if (c.key.model != model) continue;
    metric = c.metric;
    if (c.key.is_float() && !std::isfinite(reference)) reference = c.mean("value");
    if (std::isfinite(c.mean("float_value"))) reference = c.mean("float_value");
    if (!c.key.is_float() && c.key.budget.empty() && std::isfinite(c.mean("value")))
      by_method[c.key.experiment + ": " + c.key.method + " A" + std::to_string(c.key.a_bits)].push_back(&c);
  }
  ReportPlot plot{.section = "bits", .title = model, .svg = "", .note = ""};
  if (by_method.empty()) {
    plot.note = "no quantized cell of fixed width";
    return plot;
  }
  std::ostringstream data, script;
  script << "set grid\nset key outside right font ',9'\nset xlabel 'weight bits'\nset ylabel "
         << gnuplot_quote(metric_label(metric)) << "\nset offsets 0.3, 0.3, 0, 0\nplot ";
  size_t index = 0;
  for (const auto& [method, members] : by_method) {
    for (const ReportCell* c : members)
      data << c->key.w_bits << ' ' << format_number(c->mean("value")) << ' '
           << format_number(c->stats.at("value").std) << '\n';
    data << "\n\n";
    script << (index ? ", " : "") << "DATA index " << index << " using 1:2:3 with yerrorlines lw 2 title "
           << gnuplot_quote(method);
    ++index;
  }
  if (std::isfinite(reference))
    script << ", " << format_number(reference) << " with lines dashtype 2 lc 'black' title 'float'";
  const std::string file = gnuplot.data_file(slug("bits_" + model) + ".dat", data.str());
  std::string text = script.str();
  for (size_t at; (at = text.find("DATA")) != std::string::npos;) text.replace(at, 4, gnuplot_quote(file));
  return draw(gnuplot, errors, plot, text, 1000, 460);
}

// The float model quantized cells were measured against, as a size/quality point ("" when none).
std::string float_reference_point(const std::string& model, const std::vector<ReportCell>& cells) {
  for (const ReportCell& c : cells)
    if (c.key.model == model && c.mean("float_size_bytes") > 0 && std::isfinite(c.mean("float_value")))
      return format_number(c.mean("float_size_bytes")) + " " + format_number(c.mean("float_value")) + "\n";
  return "";
}

ReportPlot accuracy_vs_size(const std::string& model, const std::vector<ReportCell>& cells,
                            const GnuplotSvg& gnuplot, std::vector<std::string>& errors) {
  std::ostringstream quantized, floats, front;
  std::vector<const ReportCell*> front_cells;
  std::string metric = "accuracy";
  int points = 0;
  for (const ReportCell& c : cells) {
    const double size = c.mean("size_bytes"), value = c.mean("value");
    if (c.key.model != model || !(size > 0) || !std::isfinite(value)) continue;
    metric = c.metric;
    ++points;
    (c.key.is_float() ? floats : quantized) << format_number(size) << ' ' << format_number(value) << '\n';
    if (c.pareto) front_cells.push_back(&c);
  }
  ReportPlot plot{.section = "size", .title = model, .svg = "", .note = ""};
  if (points == 0) {
    plot.note = "no cell with a positive size and a value";
    return plot;
  }
  std::sort(front_cells.begin(), front_cells.end(), [](const ReportCell* a, const ReportCell* b) {
    return a->mean("size_bytes") < b->mean("size_bytes");
  });
  for (const ReportCell* c : front_cells)
    front << format_number(c->mean("size_bytes")) << ' ' << format_number(c->mean("value")) << '\n';
  const std::string base = slug("size_" + model);
  std::ostringstream script;
  script << "set grid\nset key outside right\nset logscale x\nset xlabel 'size (bytes, log)'\nset ylabel "
         << gnuplot_quote(metric_label(metric))
         << "\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\nplot "
         << gnuplot_quote(gnuplot.data_file(base + "_front.dat", front.str()))
         << " using 1:2 with steps lw 2 lc 'dark-green' title 'Pareto front'";
  if (!quantized.str().empty())
    script << ", " << gnuplot_quote(gnuplot.data_file(base + "_quantized.dat", quantized.str()))
           << " using 1:2 with points pt 7 ps 1.2 lc 'blue' title 'quantized'";
  if (floats.str().empty()) floats << float_reference_point(model, cells);
  if (!floats.str().empty())
    script << ", " << gnuplot_quote(gnuplot.data_file(base + "_float.dat", floats.str()))
           << " using 1:2 with points pt 5 ps 1.5 lc 'red' title 'float'";
  return draw(gnuplot, errors, plot, script.str());
}

// (x, loss) points of a run: per step from steps.jsonl when every run of the panel has it, else per epoch.
std::vector<std::pair<double, double>> loss_curve(const ReportRun& run, bool per_step) {
  std::vector<std::pair<double, double>> curve;
  if (per_step)
    for (const auto& [step, loss] : run.step_losses) curve.emplace_back(static_cast<double>(step), loss);
  else
    for (size_t e = 0; e < run.epoch_losses.size(); ++e) curve.emplace_back(e + 1.0, run.epoch_losses[e]);
  return curve;
}

ReportPlot training_loss(const std::string& panel, const std::vector<const ReportRun*>& runs,
                         const GnuplotSvg& gnuplot, std::vector<std::string>& errors) {
  const bool per_step =
      std::all_of(runs.begin(), runs.end(), [](const ReportRun* r) { return !r->step_losses.empty(); });
  std::ostringstream data, script;
  script << "set grid\nset key outside right\nset logscale y\nset xlabel "
         << (per_step ? "'step'" : "'epoch'") << "\nset ylabel 'training loss'\nplot ";
  size_t index = 0;
  for (const ReportRun* run : runs) {
    for (const auto& [x, loss] : loss_curve(*run, per_step))
      if (loss > 0) data << format_number(x) << ' ' << format_number(loss) << '\n';
    data << "\n\n";
    script << (index ? ", " : "") << "DATA index " << index << " using 1:2 with lines lw 1.5 title "
           << gnuplot_quote(run->key.method + " s" + std::to_string(run->key.seed));
    ++index;
  }
  const std::string file = gnuplot.data_file(slug("loss_" + panel) + ".dat", data.str());
  std::string text = script.str();
  for (size_t at; (at = text.find("DATA")) != std::string::npos;) text.replace(at, 4, gnuplot_quote(file));
  const std::string note =
      per_step ? "per step from steps.jsonl" : "per epoch from metrics.jsonl (no per-step log)";
  return draw(gnuplot, errors, {.section = "loss", .title = panel, .svg = "", .note = note}, text);
}

std::vector<ReportPlot> training_losses(const std::vector<ReportRun>& runs, const GnuplotSvg& gnuplot,
                                        std::vector<std::string>& errors) {
  std::map<std::string, std::vector<const ReportRun*>> panels;
  for (const ReportRun& run : runs)
    if (!run.epoch_losses.empty() || !run.step_losses.empty())
      panels[run.key.experiment + ": " + run.key.model + " " + run.key.bits_label()].push_back(&run);
  std::vector<ReportPlot> plots;
  plots.reserve(panels.size());
  for (const auto& [panel, members] : panels) plots.push_back(training_loss(panel, members, gnuplot, errors));
  return plots;
}

// Rows = mixed-precision runs, columns = layers; colour = bits (2…8), 32 grey.
ReportPlot bit_map(const std::vector<const ReportRun*>& runs, const std::string& field,
                   const GnuplotSvg& gnuplot, std::vector<std::string>& errors) {
  std::ostringstream quantized, full, ytics;
  size_t columns = 0;
  for (size_t row = 0; row < runs.size(); ++row) {
    const nlohmann::json& layers = runs[row]->measures.at("layers");
    columns = std::max(columns, layers.size());
    for (size_t col = 0; col < layers.size(); ++col) {
      const int bits = layers[col].at(field).get<int>();
      (bits >= 32 ? full : quantized) << col << ' ' << row << ' ' << bits << '\n';
    }
    ytics << (row ? ", " : "")
          << gnuplot_quote(runs[row]->key.bits_label() + " s" + std::to_string(runs[row]->key.seed)) << ' '
          << row;
  }
  const std::string base = "bitmap_" + field;
  std::ostringstream script;
  script << "set xlabel 'layer (model order)'\nset ytics (" << ytics.str()
         << ")\nset xrange [-0.5:" << columns - 0.5 << "]\nset yrange [-0.5:" << runs.size() - 0.5
         << "]\nset cbrange [2:8]\nset cblabel 'bits'\n"
         << "set palette defined (2 '#fff5eb', 4 '#fd8d3c', 6 '#d94801', 8 '#7f2704')\nset key outside "
            "bottom\nplot "
         << gnuplot_quote(gnuplot.data_file(base + ".dat", quantized.str()))
         << " using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid 1.0 border lc 'white' lc palette title "
            "'bits'";
  if (!full.str().empty())
    script << ", " << gnuplot_quote(gnuplot.data_file(base + "_fp.dat", full.str()))
           << " using 1:2:(0.5):(0.5) with boxxyerror fillstyle solid 1.0 lc 'grey' title '32 (float)'";
  const std::string title = field == "w_bits" ? "weight bits" : "input bits";
  return draw(gnuplot, errors, {.section = "bitmap", .title = title, .svg = "", .note = ""}, script.str(),
              900, 140 + 40 * static_cast<int>(runs.size()));
}

std::vector<ReportPlot> bit_maps(const std::vector<ReportRun>& runs, const GnuplotSvg& gnuplot,
                                 std::vector<std::string>& errors) {
  std::vector<const ReportRun*> mixed;
  for (const ReportRun& run : runs)
    if (!run.key.budget.empty() && run.measures.contains("layers") && !run.measures.at("layers").empty())
      mixed.push_back(&run);
  if (mixed.empty())
    return {{.section = "bitmap",
             .title = "bit widths",
             .svg = "",
             .note = "no mixed-precision run with a readable checkpoint"}};
  return {bit_map(mixed, "w_bits", gnuplot, errors), bit_map(mixed, "a_bits", gnuplot, errors)};
}

ReportPlot timing(const std::string& model, const std::vector<ReportCell>& cells, const GnuplotSvg& gnuplot,
                  std::vector<std::string>& errors) {
  std::ostringstream data;
  int rows = 0;
  for (const ReportCell& c : cells) {
    if (c.key.model != model || !std::isfinite(c.mean("fp32_ms_b128"))) continue;
    const double integer = c.mean("integer_ms_b128");
    data << data_string(c.key.method + " " + c.key.bits_label()) << ' '
         << format_number(c.mean("fp32_ms_b128")) << ' ' << format_number(c.mean("fake_ms_b128")) << ' '
         << (std::isfinite(integer) ? format_number(integer) : "-") << '\n';
    ++rows;
  }
  ReportPlot plot{.section = "timing", .title = model, .svg = "", .note = "ms per batch of 128, median"};
  if (rows == 0) {
    plot.note = "not timed (--timing off, or no readable checkpoint)";
    return plot;
  }
  const std::string file = gnuplot_quote(gnuplot.data_file(slug("timing_" + model) + ".dat", data.str()));
  std::ostringstream script;
  script << "set grid ytics\nset key outside right\nset datafile missing '-'\nset style data histograms\n"
         << "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\nset yrange [0:*]\n"
         << "set ylabel 'ms per batch of 128'\nset xtics rotate by -30\nplot " << file
         << " using 2:xtic(1) title 'fp32', '' using 3 title 'fake-quantized', '' using 4 title 'integer'";
  return draw(gnuplot, errors, plot, script.str());
}

}  // namespace

std::vector<ReportPlot> draw_plots(const std::vector<ReportRun>& runs, const std::vector<ReportCell>& cells,
                                   const GnuplotSvg& gnuplot, std::vector<std::string>& errors) {
  std::vector<ReportPlot> plots;
  const std::vector<std::string> models = models_of(cells);
  plots.reserve(2 * models.size());
  for (const std::string& model : models) plots.push_back(accuracy_vs_bits(model, cells, gnuplot, errors));
  for (const std::string& model : models) plots.push_back(accuracy_vs_size(model, cells, gnuplot, errors));
  for (ReportPlot& plot : training_losses(runs, gnuplot, errors)) plots.push_back(std::move(plot));
  for (ReportPlot& plot : bit_maps(runs, gnuplot, errors)) plots.push_back(std::move(plot));
  for (const std::string& model : models) plots.push_back(timing(model, cells, gnuplot, errors));
  return plots;
}

}  // namespace qat
