#include "experiments/report_findings.h"

#include <cmath>
#include <map>
#include <string>

namespace qat {
namespace {

using nlohmann::json;

std::string label(const RunKey& k) {
  return k.experiment + ": " + k.model + " " + k.method + " " + k.bits_label();
}

json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

std::string verdict(int passed, int failed) { return failed > 0 ? "fails" : passed > 0 ? "holds" : "n/a"; }

json finding(int id, const std::string& title, const std::string& rule) {
  return {{"id", id}, {"title", title}, {"rule", rule}, {"cells", json::array()}, {"missing", json::array()}};
}

// The float value of a quantized cell: its runs' reference, else the float cell of the same model.
double float_value(const ReportCell& cell, const std::vector<ReportCell>& cells) {
  if (std::isfinite(cell.mean("float_value"))) return cell.mean("float_value");
  for (const ReportCell& c : cells)
    if (c.key.model == cell.key.model && c.key.experiment == cell.key.experiment && c.key.is_float())
      return c.mean("value");
  return NAN;
}

bool keeps_quality(const ReportCell& cell, double reference) {
  const double value = cell.mean("value");
  return cell.metric == "accuracy" ? value >= reference - 1.0 : value <= 1.05 * reference;
}

bool quantized_by_width(const ReportCell& c) { return !c.key.is_float() && c.key.budget.empty(); }

json four_bit_keeps_accuracy(const std::vector<ReportCell>& cells) {
  json f = finding(1, "4-bit keeps accuracy",
                   "every W4 cell within 1 point of float accuracy (within 5% of float perplexity)");
  int passed = 0, failed = 0;
  std::map<std::string, int> lowest_passing;  // "model method" -> bits
  for (const ReportCell& c : cells) {
    if (!quantized_by_width(c)) continue;
    const double reference = float_value(c, cells);
    if (!std::isfinite(reference)) {
      if (c.key.w_bits == 4) f["missing"].push_back("float reference of " + label(c.key));
      continue;
    }
    const bool pass = keeps_quality(c, reference);
    const std::string method = c.key.model + " " + c.key.method;
    if (pass && (!lowest_passing.count(method) || c.key.w_bits < lowest_passing[method]))
      lowest_passing[method] = c.key.w_bits;
    if (c.key.w_bits != 4) continue;
    (pass ? passed : failed)++;
    f["cells"].push_back({{"cell", label(c.key)},
                          {"mean", number(c.mean("value"))},
                          {"float", number(reference)},
                          {"verdict", pass ? "holds" : "fails"}});
  }
  if (passed + failed == 0) f["missing"].push_back("W4 cells with a float reference");
  f["lowest_passing_width"] = lowest_passing;
  f["verdict"] = verdict(passed, failed);
  return f;
}

json perplexity_tracks_accuracy() {
  json f =
      finding(2, "perplexity tracks task accuracy",
              "Spearman rho < 0 with a bootstrap 95% interval excluding 0 over quantized BERT supersense "
              "models that report both MLM perplexity and task accuracy");
  f["missing"].push_back("quantized models reporting both MLM perplexity and supersense accuracy");
  f["verdict"] = "n/a";
  return f;
}

std::string family(const std::string& model) { return model.substr(0, model.find(' ')); }

// A pair (quantized larger model, float smaller model of the same family).
json size_pair(const ReportCell& quantized, const ReportCell& small, int& passed, int& failed) {
  const double q_size = quantized.mean("size_bytes"), f_size = small.mean("size_bytes");
  json pair = {{"quantized", label(quantized.key)},
               {"float", label(small.key)},
               {"quantized_size_bytes", number(q_size)},
               {"float_size_bytes", number(f_size)},
               {"quantized_value", number(quantized.mean("value"))},
               {"float_value", number(small.mean("value"))}};
  if (!(q_size <= f_size)) {
    pair["verdict"] = "n/a";
    pair["reason"] = "quantized model larger than the float one";
    return pair;
  }
  const bool better = quantized.metric == "accuracy" ? quantized.mean("value") >= small.mean("value")
                                                     : quantized.mean("value") <= small.mean("value");
  (better ? passed : failed)++;
  pair["verdict"] = better ? "holds" : "fails";
  return pair;
}

json bigger_quantized_beats_smaller_float(const std::vector<ReportCell>& cells) {
  json f = finding(3, "a bigger model quantized beats a smaller float one at equal size",
                   "same-family pairs with the quantized model's packed size at most the float model's");
  int passed = 0, failed = 0;
  for (const ReportCell& q : cells)
    for (const ReportCell& small : cells)
      if (!q.key.is_float() && small.key.is_float() && family(q.key.model) == family(small.key.model) &&
          small.mean("parameters") < q.mean("parameters"))
        f["cells"].push_back(size_pair(q, small, passed, failed));
  if (f["cells"].empty())
    f["missing"].push_back("float models smaller than a quantized model of the same family");
  f["verdict"] = verdict(passed, failed);
  return f;
}

json fake_quantization_is_slower(const std::vector<ReportCell>& cells) {
  json f = finding(4, "fake quantization without integer kernels is slower than float",
                   "fake-quantized ms / fp32 ms > 1 at batch 128 (integer / fp32 beside it)");
  int passed = 0, failed = 0;
  for (const ReportCell& c : cells) {
    if (c.key.is_float()) continue;
    const double fake = c.mean("fake_ms_b128") / c.mean("fp32_ms_b128");
    if (!std::isfinite(fake)) continue;
    (fake > 1 ? passed : failed)++;
    f["cells"].push_back({{"cell", label(c.key)},
                          {"fake_vs_fp32", fake},
                          {"integer_vs_fp32", number(c.mean("integer_ms_b128") / c.mean("fp32_ms_b128"))},
                          {"verdict", fake > 1 ? "holds" : "fails"}});
  }
  if (passed + failed == 0) f["missing"].push_back("timed quantized cells (--timing quick or full)");
  f["verdict"] = verdict(passed, failed);
  return f;
}

}  // namespace

json check_findings(const std::vector<ReportCell>& cells) {
  return json::array({four_bit_keeps_accuracy(cells), perplexity_tracks_accuracy(),
                      bigger_quantized_beats_smaller_float(cells), fake_quantization_is_slower(cells)});
}

}  // namespace qat
