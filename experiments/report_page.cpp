#include "experiments/report_page.h"

#include <omp.h>

#include <sstream>

#include "experiments/report_csv.h"

namespace qat {
namespace {

using nlohmann::json;

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff;max-width:1240px}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0;display:block;overflow-x:auto}"
    "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eef}"
    "td.l,th.l{text-align:left}.holds{color:#060;font-weight:bold}.fails{color:#b00;font-weight:bold}"
    ".na{color:#777;font-weight:bold}.pareto{background:#efe}svg.plot{display:block;margin:8px 0}"
    "figure{margin:12px 0}figcaption{font-size:13px;color:#555}code{font-size:12px}";

std::string verdict_class(const std::string& verdict) { return verdict == "n/a" ? "na" : verdict; }

std::string cell_number(double value) {
  const std::string text = format_number(value);
  return text.empty() ? "–" : text;
}

std::string json_cell(const json& value) {
  if (value.is_number()) return cell_number(value.get<double>());
  if (value.is_null()) return "–";
  return html_escape(value.is_string() ? value.get<std::string>() : value.dump());
}

// An array of flat objects as a table, one column per key of the first object.
std::string json_table(const json& rows) {
  std::ostringstream out;
  out << "<table>\n<tr>";
  for (const auto& [key, value] : rows.front().items())
    out << "<th class=\"l\">" << html_escape(key) << "</th>";
  out << "</tr>\n";
  for (const json& row : rows) {
    out << "<tr>";
    for (const auto& [key, value] : rows.front().items()) {
      const std::string text = json_cell(row.value(key, json(nullptr)));
      out << "<td class=\"l";
      if (key == "verdict") out << ' ' << verdict_class(text);
      out << "\">" << text << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n";
  return out.str();
}

void findings_section(std::ostringstream& out, const json& findings) {
  out << "<h2>1. Findings</h2>\n";
  for (const json& f : findings) {
    const std::string verdict = f.at("verdict");
    out << "<h3>" << f.at("id").get<int>() << ". " << html_escape(f.at("title")) << ": <span class=\""
        << verdict_class(verdict) << "\">" << verdict << "</span></h3>\n<p>" << html_escape(f.at("rule"))
        << "</p>\n";
    if (!f.at("cells").empty()) out << json_table(f.at("cells"));
    if (f.contains("lowest_passing_width") && !f.at("lowest_passing_width").empty())
      out << "<p>Lowest passing width per method: <code>" << html_escape(f.at("lowest_passing_width").dump())
          << "</code></p>\n";
    for (const json& m : f.at("missing"))
      out << "<p>Missing: " << html_escape(m.get<std::string>()) << "</p>\n";
  }
}

void cells_section(std::ostringstream& out, const std::vector<ReportCell>& cells) {
  out << "<h2>2. Cells</h2>\n<table>\n<tr><th class=\"l\">experiment</th><th class=\"l\">model</th><th "
         "class=\"l\">method</th><th "
         "class=\"l\">bits"
         "</th><th>seeds</th><th>metric mean</th><th>std</th><th>float</th><th>Δ float</th><th>flip %</th>"
         "<th>ECE</th><th>spread Δ (pts)</th><th>size bytes</th><th>compression</th><th>avg W bits</th>"
         "<th>GBOPs</th><th>fp32 ms</th><th>fake ms</th><th>integer ms</th></tr>\n";
  for (const ReportCell& c : cells) {
    out << "<tr" << (c.pareto ? " class=\"pareto\"" : "") << "><td class=\"l\">"
        << html_escape(c.key.experiment) << "</td><td class=\"l\">" << html_escape(c.key.model)
        << "</td><td class=\"l\">" << html_escape(c.key.method) << "</td><td class=\"l\">"
        << html_escape(c.key.bits_label()) << "</td><td>" << c.runs.size() << "</td>";
    for (const double v :
         {c.mean("value"), c.stats.at("value").std, c.mean("float_value"),
          c.mean("value") - c.mean("float_value"), c.mean("flip_rate"), c.mean("ece"),
          c.mean("spread_vs_float"), c.mean("size_bytes"), c.mean("compression"), c.mean("avg_weight_bits"),
          c.mean("gbops"), c.mean("fp32_ms_b128"), c.mean("fake_ms_b128"), c.mean("integer_ms_b128")})
      out << "<td>" << cell_number(v) << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n<p>Metric: accuracy in percent (perplexity for language models); rows shaded green are "
         "on "
         "their model's size/quality Pareto front; timing at batch 128.</p>\n";
}

void plot_section(std::ostringstream& out, const std::string& heading, const std::string& section,
                  const std::vector<ReportPlot>& plots) {
  out << "<h2>" << html_escape(heading) << "</h2>\n";
  for (const ReportPlot& p : plots) {
    if (p.section != section) continue;
    out << "<figure>" << p.svg << "<figcaption>" << html_escape(p.title)
        << (p.note.empty() ? "" : " — " + html_escape(p.note)) << "</figcaption></figure>\n";
  }
}

void provenance_section(std::ostringstream& out, const ReportPage& page) {
  out << "<h2>9. Provenance</h2>\n<p>Command: <code>" << html_escape(page.command)
      << "</code></p>\n<p>Threads: " << omp_get_max_threads() << "</p>\n<p>Date: " << html_escape(page.date)
      << "</p>\n";
  if (!page.problems.empty()) out << "<pre>" << html_escape(page.problems.dump(1)) << "</pre>\n";
  out << "<table>\n<tr><th class=\"l\">run directory</th><th class=\"l\">cell</th><th>seed</th>"
         "<th class=\"l\">checkpoint</th></tr>\n";
  for (const ReportRun* run : page.runs)
    out << "<tr><td class=\"l\">" << html_escape(run->dir) << "</td><td class=\"l\">"
        << html_escape(run->key.cell()) << "</td><td>" << run->key.seed << "</td><td class=\"l\">"
        << html_escape(run->checkpoint_error.empty() ? run->checkpoint : run->checkpoint_error)
        << "</td></tr>\n";
  out << "</table>\n";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ReportPage::html() const {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(title)
      << "</title><style>" << kStyle << "</style></head><body>\n<h1>" << html_escape(title) << "</h1>\n";
  findings_section(out, findings);
  cells_section(out, *cells);
  plot_section(out, "3. Quality against weight bits", "bits", plots);
  plot_section(out, "4. Quality against size", "size", plots);
  plot_section(out, "5. Training loss", "loss", plots);
  plot_section(out, "6. Bit widths of mixed-precision runs", "bitmap", plots);
  out << "<h2>7. Perplexity against task accuracy</h2>\n<p>n/a: no quantized model reports both.</p>\n";
  plot_section(out, "8. Timing", "timing", plots);
  provenance_section(out, *this);
  out << "</body></html>\n";
  return out.str();
}

}  // namespace qat
