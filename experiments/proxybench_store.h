#pragma once
// The benchmark's configs and its bench.csv (MIXED_PRECISION.md, "Mini-benchmark"): which bits each
// sampled config gives the allocatable layers, and the row it measured.
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"
#include "quant/mixed_precision/cost_table.h"

namespace qat {

/// One sampled config: weight bits of the allocatable layers (model order), its band and half.
struct BenchConfig {
  int64_t id = 0;
  std::string split;  ///< "search" or "heldout", by a hash of the id
  int band = 0;       ///< 0: average weight bits < 2.75, 1: 2.75-3.25, 2: > 3.25
  std::vector<int> bits;
};

/// A row of bench.csv.
struct BenchRow {
  BenchConfig config;
  double avg_weight_bits = 0;
  int64_t size_bytes = 0;
  double gbops = 0;
  double acc_ptq = 0;  ///< quantized from the float model, before fine-tuning
  double acc_ft = 0;   ///< after the fine-tuning steps
  double loss_ft = 0;
  double seconds = 0;
};

/// The uniform configs of every width, then `configs_per_band` configs per band in turn (config i of the
/// sampled ones falls in band i mod 3), each drawn uniformly per layer until its average weight bits fall in
/// its band by a generator seeded from (seed, id): the same list for the same table and settings.
std::vector<BenchConfig> bench_configs(const CostTable& table, const config::ProxybenchConfig& settings);

/// The table's built widths with the allocatable layers' weight bits from `bits`.
BitConfig config_bits(const CostTable& table, const std::vector<int>& bits);

/// bench.csv's header line (no newline).
std::string bench_csv_header();
/// One row as a CSV line (no newline).
std::string bench_csv_line(const BenchRow& row);
/// The rows of a bench.csv (none when the file does not exist); errors name the file and line.
std::vector<BenchRow> read_bench_csv(const std::string& path);

}  // namespace qat
