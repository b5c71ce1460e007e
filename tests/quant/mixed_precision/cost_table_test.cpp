// CostTable: the size it counts for a bit configuration is the bytes the packed file's datasets take
// (HDF5's own storage sizes), also for widths other than the ones the model was built with; its average
// bits and GBOPs are cost_model.h's totals of the model built at those widths.
#include "quant/mixed_precision/cost_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "autograd/grad_mode.h"
#include "engine/hdf5_file.h"
#include "engine/random.h"
#include "layers/models/resnet.h"
#include "quant/export/packed_file.h"
#include "quant/export/packed_model.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

// A tiny LSQ ResNet (per-channel weights, 4-bit inputs) with `rules` after the default 3 bits; one forward.
struct Tiny {
  std::shared_ptr<Module> model;
  QuantizedModel quantized;
};

Tiny tiny_model(const std::vector<QuantRule>& rules) {
  manual_seed(3);
  Tiny t{.model = resnet({.widths = {16, 32}, .blocks_per_stage = 1, .in_channels = 1, .num_classes = 10}),
         .quantized = {}};
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight_bits = 3;
  policy.act_bits = 4;
  policy.weight.per_channel = true;
  policy.rules = rules;
  t.quantized = quant::apply(*t.model, policy);
  NoGrad no_grad;
  t.model->eval();
  t.model->forward(Variable(Generator(4).normal_tensor({8, 1, 12, 12})));
  return t;
}

// Σ over every dataset of every layer group of the bytes HDF5 stores for its values.
int64_t dataset_bytes(const fs::path& path, const PackedModel& packed) {
  hdf5::Quiet quiet;
  const hdf5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  int64_t bytes = 0;
  for (const PackedLayer& l : packed.layers) {
    const hdf5::Handle group(H5Gopen2(file.get(), ("layers/" + l.path).c_str(), H5P_DEFAULT), H5Gclose);
    H5G_info_t info;
    H5Gget_info(group.get(), &info);
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      char name[256];
      H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name), H5P_DEFAULT);
      const hdf5::Handle dataset(H5Dopen2(group.get(), name, H5P_DEFAULT), H5Dclose);
      // Less the Fletcher-32 checksum (4 bytes) of each dataset's single chunk (engine/hdf5_file.cpp):
      // HDF5 overhead, which budgets leave out.
      bytes += static_cast<int64_t>(H5Dget_storage_size(dataset.get())) - 4;
    }
  }
  return bytes;
}

TEST(CostTable, SizeIsThePackedDatasetsBytesAtAnyWidths) {
  Tiny built = tiny_model({});
  const CostTable table = CostTable::of(*built.model, built.quantized);
  ASSERT_EQ(table.layers().size(), built.quantized.layers.size());
  EXPECT_TRUE(table.layers().front().fixed);
  EXPECT_TRUE(table.layers().back().fixed);
  EXPECT_FALSE(table.layers()[1].fixed);

  // Widths 2, 4, 5, 2, … on the inner layers: the model built by rules at those widths, packed and saved.
  BitConfig other = table.built();
  std::vector<QuantRule> rules;
  for (size_t i = 1; i + 1 < other.layers.size(); ++i) {
    other.layers[i].w_bits = 2 + static_cast<int>(i % 4);
    std::string pattern;
    for (const char c : other.layers[i].path) pattern += c == '.' ? std::string("\\.") : std::string(1, c);
    rules.push_back({.name_pattern = pattern, .layer_type = "", .weight_bits = other.layers[i].w_bits});
  }
  Tiny rebuilt = tiny_model(rules);
  const PackedModel packed = pack_model(*rebuilt.model, "");
  const fs::path path = fs::temp_directory_path() / ("qat_cost_table_" + std::to_string(::getpid()) + ".h5");
  save_packed(packed, path.string());
  EXPECT_EQ(table.size_bytes(other), dataset_bytes(path, packed));
  int64_t stored = 0;
  for (const PackedLayer& l : packed.layers) stored += stored_bytes(l.weight);
  EXPECT_EQ(stored, dataset_bytes(path, packed));
  fs::remove(path);

  const ModelCost expected = total_cost(layer_costs(rebuilt.quantized)), got = table.totals(other);
  EXPECT_DOUBLE_EQ(got.avg_weight_bits, expected.avg_weight_bits);
  EXPECT_DOUBLE_EQ(got.avg_act_bits, expected.avg_act_bits);
  EXPECT_DOUBLE_EQ(got.weight_size_bits, expected.weight_size_bits);
  EXPECT_DOUBLE_EQ(got.gbops, expected.gbops);
  EXPECT_NE(table.totals(table.built()).gbops, got.gbops);
}

TEST(CostTable, AConfigOfAnotherModelIsNamed) {
  Tiny built = tiny_model({});
  const CostTable table = CostTable::of(*built.model, built.quantized);
  BitConfig bits = table.built();
  bits.layers[1].path = "stage9.conv";
  const std::string error = test::error_of([&] { table.size_bytes(bits); });
  EXPECT_NE(error.find("'stage9.conv'"), std::string::npos) << error;
}

}  // namespace
}  // namespace qat
