#include "experiments/proxybench_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/random.h"
#include "quant/mixed_precision/allocation_problem.h"

namespace qat {
namespace {

constexpr const char* kHeader =
    "id,split,band,bits,avg_weight_bits,size_bytes,gbops,acc_ptq,acc_ft,loss_ft,seconds";

int band_of(double avg_bits) { return avg_bits < 2.75 ? 0 : avg_bits <= 3.25 ? 1 : 2; }

std::string split_of(int64_t id, uint64_t seed) {
  return (mix_seed(seed ^ mix_seed(static_cast<uint64_t>(id))) & 1) != 0 ? "heldout" : "search";
}

size_t allocatable(const CostTable& table) {
  size_t n = 0;
  for (const LayerCostEntry& l : table.layers()) n += !l.fixed;
  return n;
}

std::vector<int> choice_bits(const config::ProxybenchConfig& settings) {
  std::vector<int> bits(settings.bits().begin(), settings.bits().end());
  return bits.empty() ? std::vector<int>{2, 3, 4} : bits;
}

std::string format(double v) {
  std::ostringstream out;
  out.precision(9);
  out << v;
  return out.str();
}

}  // namespace

BitConfig config_bits(const CostTable& table, const std::vector<int>& bits) {
  BitConfig config = table.built();
  size_t next = 0;
  for (size_t i = 0; i < table.layers().size(); ++i)
    if (!table.layers()[i].fixed) {
      QAT_CHECK(next < bits.size(), "proxybench: a config of ", bits.size(), " widths for more layers");
      config.layers[i].w_bits = bits[next++];
    }
  QAT_CHECK(next == bits.size(), "proxybench: a config of ", bits.size(), " widths for ", next, " layers");
  return config;
}

std::vector<BenchConfig> bench_configs(const CostTable& table, const config::ProxybenchConfig& settings) {
  const std::vector<int> choices = choice_bits(settings);
  const size_t layers = allocatable(table);
  std::vector<BenchConfig> configs;
  for (const int b : choices) {
    const auto id = static_cast<int64_t>(configs.size());
    configs.push_back({id, split_of(id, settings.seed()), band_of(b), std::vector<int>(layers, b)});
  }
  const int64_t sampled = 3 * static_cast<int64_t>(settings.configs_per_band());
  for (int64_t k = 0; k < sampled; ++k) {
    const auto id = static_cast<int64_t>(configs.size());
    const int band = static_cast<int>(k % 3);
    Generator rng(mix_seed(settings.seed() * 1000003 + static_cast<uint64_t>(id)));
    std::vector<int> bits(layers);
    for (int attempt = 0;; ++attempt) {
      QAT_CHECK(attempt < 100000, "proxybench.bits: no config of band ", band, " in 100000 draws");
      for (int& b : bits) b = choices[static_cast<size_t>(rng.below(static_cast<int64_t>(choices.size())))];
      if (band_of(budget_measure(table, config_bits(table, bits), BudgetKind::avg_bits)) == band) break;
    }
    configs.push_back({id, split_of(id, settings.seed()), band, bits});
  }
  return configs;
}

std::string bench_csv_header() { return kHeader; }

std::string bench_csv_line(const BenchRow& row) {
  std::string digits;
  for (const int b : row.config.bits) digits += std::to_string(b);
  return std::to_string(row.config.id) + "," + row.config.split + "," + std::to_string(row.config.band) +
         "," + digits + "," + format(row.avg_weight_bits) + "," + std::to_string(row.size_bytes) + "," +
         format(row.gbops) + "," + format(row.acc_ptq) + "," + format(row.acc_ft) + "," +
         format(row.loss_ft) + "," + format(row.seconds);
}

std::vector<BenchRow> read_bench_csv(const std::string& path) {
  std::vector<BenchRow> rows;
  if (!std::filesystem::exists(path)) return rows;
  std::ifstream in(path);
  std::string line;
  QAT_CHECK(std::getline(in, line) && line == kHeader, path, ": line 1 is not the header ", kHeader);
  for (int number = 2; std::getline(in, line); ++number) {
    std::stringstream fields(line);
    std::vector<std::string> f;
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    QAT_CHECK(f.size() == 11, path, ", line ", number, ": ", f.size(), " fields, expected 11");
    try {
      BenchRow r;
      r.config = {std::stoll(f[0]), f[1], std::stoi(f[2]), {}};
      for (const char c : f[3]) {
        QAT_CHECK(c >= '0' && c <= '9', "");
        r.config.bits.push_back(c - '0');
      }
      r.avg_weight_bits = std::stod(f[4]);
      r.size_bytes = std::stoll(f[5]);
      r.gbops = std::stod(f[6]);
      r.acc_ptq = std::stod(f[7]);
      r.acc_ft = std::stod(f[8]);
      r.loss_ft = std::stod(f[9]);
      r.seconds = std::stod(f[10]);
      rows.push_back(r);
    } catch (const std::exception&) {
      detail::fail(path, ", line ", number, ": not a bench row: ", line);
    }
  }
  return rows;
}

}  // namespace qat
