#include "experiments/report_csv.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace qat {
namespace {

void key_fields(std::ostringstream& out, const RunKey& k) {
  out << csv_field(k.experiment) << ',' << csv_field(k.model) << ',' << csv_field(k.method) << ',' << k.w_bits
      << ',' << k.a_bits << ',' << csv_field(k.budget);
}

// Why the run has no integer timing ("" when it has one or was not timed).
std::string integer_unavailable(const nlohmann::json& measures) {
  const auto timing = measures.find("timing");
  return timing != measures.end() && timing->is_object() ? timing->value("integer", "") : "";
}

}  // namespace

std::string format_number(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string runs_csv(const std::vector<ReportRun>& runs) {
  std::ostringstream out;
  out << "dir,experiment,model,method,w_bits,a_bits,budget,seed,metric";
  for (const std::string& column : ReportRun::value_columns()) out << ',' << column;
  out << ",checkpoint,checkpoint_error,integer_unavailable\n";
  for (const ReportRun& run : runs) {
    out << csv_field(run.dir) << ',';
    key_fields(out, run.key);
    out << ',' << run.key.seed << ',' << run.metric();
    const auto values = run.values();
    for (const std::string& column : ReportRun::value_columns())
      out << ',' << format_number(values.at(column));
    out << ',' << csv_field(run.checkpoint) << ',' << csv_field(run.checkpoint_error) << ','
        << csv_field(integer_unavailable(run.measures)) << '\n';
  }
  return out.str();
}

std::string cells_csv(const std::vector<ReportCell>& cells) {
  std::ostringstream out;
  out << "experiment,model,method,w_bits,a_bits,budget,seeds,metric,mean,std,min,max,n,diff_to_float,pareto";
  for (const std::string& column : ReportRun::cell_mean_columns()) out << ',' << column;
  out << ",fake_vs_fp32_b128,integer_speedup_b128\n";
  for (const ReportCell& cell : cells) {
    const SampleSummary& v = cell.stats.at("value");
    key_fields(out, cell.key);
    out << ',' << cell.runs.size() << ',' << cell.metric << ',' << format_number(v.mean) << ','
        << format_number(v.std) << ',' << format_number(v.min) << ',' << format_number(v.max) << ',' << v.n
        << ',' << format_number(v.mean - cell.mean("float_value")) << ',' << (cell.pareto ? 1 : 0);
    for (const std::string& column : ReportRun::cell_mean_columns())
      out << ',' << format_number(cell.mean(column));
    out << ',' << format_number(cell.mean("fake_ms_b128") / cell.mean("fp32_ms_b128")) << ','
        << format_number(cell.mean("fp32_ms_b128") / cell.mean("integer_ms_b128")) << '\n';
  }
  return out.str();
}

std::string layers_csv(const std::vector<ReportRun>& runs) {
  std::ostringstream out;
  out << "dir,experiment,model,method,w_bits,a_bits,budget,seed,index,layer,layer_w_bits,layer_a_bits,"
         "weights,macs\n";
  for (const ReportRun& run : runs) {
    const auto layers = run.measures.find("layers");
    if (layers == run.measures.end()) continue;
    for (size_t i = 0; i < layers->size(); ++i) {
      const nlohmann::json& l = (*layers)[i];
      out << csv_field(run.dir) << ',';
      key_fields(out, run.key);
      out << ',' << run.key.seed << ',' << i << ',' << csv_field(l.at("path")) << ','
          << l.at("w_bits").get<int>() << ',' << l.at("a_bits").get<int>() << ','
          << l.at("weights").get<int64_t>() << ',' << format_number(l.at("macs").get<double>()) << '\n';
    }
  }
  return out.str();
}

}  // namespace qat
