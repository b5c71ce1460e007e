// `qat export --format packed`, `qat inspect`, `qat eval` and `qat bench --packed` end to end: a briefly
// trained LSQ W4A4 ResNet-20 (from the committed float checkpoint) is packed; integer inference of the file
// reaches the fake-quantized evaluation's accuracy within 0.1 points on a Fashion-MNIST test subset; the
// payload is within 5% of Σ numel·bits/8; bad files fail naming the file and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/fashion_mnist.h"
#include "engine/hdf5_file.h"
#include "experiments/bench_command.h"
#include "experiments/eval_command.h"
#include "experiments/export_command.h"
#include "experiments/inspect_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kTestImages = 2000;  // 0.1 points = 2 images
const std::string source_dir = QAT_SOURCE_DIR;

fs::path train_w4a4(const fs::path& dir) {
  CommandLine line;
  line.positional = {source_dir + "/experiments/configs/fmnist_resnet20_lsq_w4a4.pbtxt"};
  line.overrides = {"init_checkpoint=" + source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
                    "data.train_limit=256",
                    "data.test_limit=64",
                    "train.batch_size=64",
                    "train.epochs=1",
                    "quant.final_epochs=0"};
  line.options["out"] = dir.string();
  run_train(line);
  return dir / "model.h5";
}

json command(std::string (*run)(const CommandLine&), const std::vector<std::string>& positional,
             const std::map<std::string, std::string>& options = {},
             const std::vector<std::string>& overrides = {}) {
  CommandLine line;
  line.positional = positional;
  line.options = options;
  line.overrides = overrides;
  return json::parse(run(line));
}

TEST(PackedCommand, IntegerInferenceMatchesFakeQuantizedEvalAndPayloadIsPacked) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_packed_cmd_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path checkpoint = train_w4a4(dir), packed = dir / "model.packed.h5";
  const json exported =
      command(run_export, {checkpoint.string()}, {{"format", "packed"}, {"out", packed.string()}});
  EXPECT_EQ(exported["format"], "packed");
  EXPECT_EQ(exported["layers"], 22);
  EXPECT_EQ(exported["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(packed)));
  EXPECT_LE(exported["payload_ratio"].get<double>(), 1.05) << exported.dump();
  // ResNet-20's conv/linear weights: stem 144, stage 1 6·2304, stage 2 4608 + 5·9216 + 512, stage 3
  // 18432 + 5·36864 + 2048, fc 640; 4 bits each except the 8-bit stem and classifier.
  const int64_t weights = 144 + 6 * 2304 + 4608 + 5 * 9216 + 512 + 18432 + 5 * 36864 + 2048 + 640;
  EXPECT_EQ(exported["weights"], weights);
  EXPECT_DOUBLE_EQ(exported["ideal_payload_bytes"].get<double>(), (weights - 144 - 640) / 2.0 + 144 + 640);

  const json inspected = command(run_inspect, {packed.string()});
  EXPECT_EQ(inspected["format"], "packed");
  EXPECT_EQ(inspected["payload_bytes"], exported["payload_bytes"]);
  EXPECT_EQ(inspected["weight_bits"].size(), 22u);
  EXPECT_EQ(inspected["weight_bits"][0], 8);
  EXPECT_EQ(inspected["weight_bits"][1], 4);

  const std::vector<std::string> subset = {"data.test_limit=" + std::to_string(kTestImages)};
  const json fake = command(run_eval, {checkpoint.string()}, {}, subset);
  const json integer = command(run_eval, {packed.string()}, {}, subset);
  EXPECT_EQ(integer["inference"], "integer");
  EXPECT_EQ(integer["test_examples"], kTestImages);
  EXPECT_GT(integer["test_accuracy"].get<double>(), 0.8) << integer.dump();
  EXPECT_NEAR(integer["test_accuracy"].get<double>(), fake["test_accuracy"].get<double>(), 0.001)
      << "integer " << integer.dump() << "\nfake-quantized " << fake.dump();
  EXPECT_NEAR(integer["test_loss"].get<double>(), fake["test_loss"].get<double>(), 0.01);

  const json bench =
      command(run_bench, {}, {{"packed", packed.string()}, {"batch", "16"}, {"steps", "2"}, {"warmup", "1"}});
  EXPECT_EQ(bench["inference"], "integer");
  EXPECT_GT(bench["ms_per_step"].get<double>(), 0.0);
  EXPECT_GT(bench["fp32_ms_per_step"].get<double>(), 0.0);
  EXPECT_EQ(bench["primitives_created_while_timed"], 0);
  fs::remove_all(dir);
}

TEST(PackedCommand, BadPackedFilesNameTheFileAndField) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_packed_bad_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path checkpoint = train_w4a4(dir), packed = dir / "model.packed.h5";
  command(run_export, {checkpoint.string()}, {{"format", "packed"}, {"out", packed.string()}});
  {
    hdf5::Quiet quiet;
    const hdf5::Handle file(H5Fopen(packed.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    const hdf5::Handle group(H5Gopen2(file.get(), "layers/layer3_1.conv2", H5P_DEFAULT), H5Gclose);
    H5Adelete(group.get(), "qmax");
    hdf5::write_int_attribute(group.get(), "qmax", 300);
  }
  CommandLine line;
  line.positional = {packed.string()};
  const std::string tampered = test::error_of([&] { run_eval(line); });
  EXPECT_NE(tampered.find("packed model " + packed.string() + ": layer 'layer3_1.conv2': qmin/qmax"),
            std::string::npos)
      << tampered;
  EXPECT_NE(test::error_of([&] { run_inspect(line); }).find("layer3_1.conv2"), std::string::npos);

  const fs::path truncated = dir / "truncated.packed.h5";
  {
    std::ifstream in(packed, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  line.positional = {truncated.string()};
  const std::string cut = test::error_of([&] { run_eval(line); });
  EXPECT_NE(cut.find(truncated.string()), std::string::npos) << cut;
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
