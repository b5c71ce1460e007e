// `qat ptq` end to end on the committed float ResNet-20 (Fashion-MNIST subsets, a few seconds a run): RTN and
// OPTQ at W4 stay near the float model; the written checkpoint evaluates to the same accuracy in `qat eval`,
// `qat inspect` reads it; its packed export runs in integer inference to the same accuracy; records with
// groups, column scales and transforms run in f32 there (ONNX: tests/experiments/export_command_test.cpp);
// a MobileNetV2 goes the same way; calibration is deterministic by calib_seed; bad input names the field.
#include "experiments/ptq_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "datasets/fashion_mnist.h"
#include "experiments/config_loader.h"
#include "experiments/eval_command.h"
#include "experiments/export_command.h"
#include "experiments/inspect_command.h"
#include "experiments/model_factory.h"
#include "quant/quant_method.h"
#include "tests/test_util.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string source_dir = QAT_SOURCE_DIR;
const std::string ptq_config = source_dir + "/experiments/configs/fmnist_resnet20_ptq.pbtxt";
const std::string test_limit = "data.test_limit=500";  // 0.2 points = 1 image

std::vector<std::string> subset(const std::vector<std::string>& more) {
  std::vector<std::string> o{
      "init_checkpoint=" + source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
      "data.train_limit=512", test_limit, "ptq.calib_samples=64"};
  o.insert(o.end(), more.begin(), more.end());
  return o;
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

json ptq(const std::vector<std::string>& overrides, const fs::path& out,
         const std::string& config = ptq_config) {
  return command(run_ptq, {config}, {{"out", out.string()}}, overrides);
}

std::string ptq_error(const std::vector<std::string>& overrides, const std::string& config = ptq_config) {
  CommandLine line;
  line.positional = {config};
  line.overrides = overrides;
  return test::error_of([&] { run_ptq(line); });
}

std::vector<std::vector<std::string>> csv_rows(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("qat_ptq_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

double accuracy(const json& j) { return j["test_accuracy"].get<double>(); }

TEST(PtqCommand, RtnAndOptqAtW4StayNearFloatAndTheirCheckpointsEvaluateAlike) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("w4");
  std::map<std::string, double> loss;
  for (const std::string method : {"rtn", "optq"}) {
    const fs::path out = dir / method;
    const json r = ptq(subset({"ptq.method=" + method}), out);
    EXPECT_EQ(r["method"], method);
    EXPECT_EQ(r["layers"], 22);
    EXPECT_EQ(r["test_examples"], 500);
    EXPECT_GT(r["float_test_accuracy"].get<double>(), 0.85) << r.dump();
    EXPECT_NEAR(accuracy(r), r["float_test_accuracy"].get<double>(), 0.02) << r.dump();
    loss[method] = r["total_loss"].get<double>();
    std::ifstream written(out / "result.json");
    EXPECT_EQ(json::parse(written), r);

    const json evaluated = command(run_eval, {(out / "model.h5").string()}, {}, {test_limit});
    EXPECT_DOUBLE_EQ(accuracy(evaluated), accuracy(r)) << evaluated.dump();
    EXPECT_NEAR(evaluated["test_loss"].get<double>(), r["test_loss"].get<double>(), 1e-5);

    const std::vector<std::vector<std::string>> rows = csv_rows(out / "layers.csv");
    ASSERT_EQ(rows.size(), 23u);
    EXPECT_EQ(rows[0][0], "path");
    EXPECT_EQ(rows[0].size(), 13u);
    EXPECT_EQ(rows[1][0], "stem");
    EXPECT_EQ(rows[22][0], "fc");
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), rows[0].size());
      EXPECT_EQ(rows[i][1], method) << rows[i][0];
      EXPECT_EQ(rows[i][2], i == 1 || i == 22 ? "8" : "4") << rows[i][0];
      EXPECT_GT(std::stod(rows[i][3]), 0.0) << rows[i][0];  // ℓ
      EXPECT_LT(std::stod(rows[i][4]), 0.1) << rows[i][0];  // ℓ / tr(W H Wᵀ)
    }
  }
  EXPECT_LT(loss["optq"], loss["rtn"]);  // OPTQ's feedback lowers the summed proxy loss
  const json inspected = command(run_inspect, {(dir / "optq" / "model.h5").string()}, {}, {test_limit});
  EXPECT_EQ(inspected["method"], "optq");
  EXPECT_EQ(inspected["weight_bits"].size(), 22u);
  EXPECT_EQ(inspected["weight_bits"][0], 8);
  EXPECT_EQ(inspected["weight_bits"][1], 4);
  fs::remove_all(dir);
}

TEST(PtqCommand, PackedExportOfW4A8RunsIntegerInferenceToTheSameAccuracy) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("packed");
  const json r = ptq(subset({"ptq.method=optq", "ptq.act_bits=8"}), dir);
  EXPECT_EQ(r["act_bits"], 8);
  EXPECT_NEAR(accuracy(r), r["float_test_accuracy"].get<double>(), 0.02) << r.dump();
  const fs::path packed = dir / "model.packed.h5";
  const json exported =
      command(run_export, {(dir / "model.h5").string()}, {{"format", "packed"}, {"out", packed.string()}});
  EXPECT_EQ(exported["layers"], 22);
  EXPECT_EQ(exported["payload_bytes"].get<double>(), exported["ideal_payload_bytes"].get<double>());
  const json integer = command(run_eval, {packed.string()}, {}, {test_limit});
  EXPECT_EQ(integer["inference"], "integer");
  EXPECT_EQ(integer["float_layers"], 2) << "the stem reads the image; the 8-bit classifier's codes exceed s8";
  EXPECT_NEAR(accuracy(integer), accuracy(r), 0.002) << "integer " << integer.dump() << "\nptq " << r.dump();
  EXPECT_NEAR(integer["test_loss"].get<double>(), r["test_loss"].get<double>(), 0.01);
  const json onnx = command(run_export, {(dir / "model.h5").string()},
                            {{"format", "onnx"}, {"out", (dir / "m.onnx").string()}});
  EXPECT_GT(onnx["nodes"].get<int64_t>(), 22);
  fs::remove_all(dir);
}

TEST(PtqCommand, GroupAndTransformRecordsRunInF32InIntegerInference) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("records");
  // SINQ W3: tiles (groups) and column scales on the classifier, RTN on tiles in the 3×3 convolutions.
  const json sinq = ptq(subset({"ptq.method=sinq", "ptq.weight_bits=3", "ptq.act_bits=8"}), dir / "sinq");
  const fs::path packed = dir / "sinq.packed.h5";
  command(run_export, {(dir / "sinq" / "model.h5").string()},
          {{"format", "packed"}, {"out", packed.string()}});
  const json integer = command(run_eval, {packed.string()}, {}, {test_limit});
  EXPECT_EQ(integer["float_layers"], 22) << "every record has tiles (groups) or a float input";
  EXPECT_NEAR(accuracy(integer), accuracy(sinq), 0.002) << integer.dump() << "\n" << sinq.dump();
  EXPECT_NEAR(integer["test_loss"].get<double>(), sinq["test_loss"].get<double>(), 0.01);
  // QuIP's output transform on a 1×1 shortcut convolution meets the batch norm after it: the batch norm
  // becomes row scales after the transform.
  const json quip =
      ptq(subset({"ptq.method=quip", "ptq.incoherence=hadamard", "ptq.act_bits=8"}), dir / "quip");
  command(run_export, {(dir / "quip" / "model.h5").string()},
          {{"format", "packed"}, {"out", (dir / "quip.packed.h5").string()}});
  const json quip_integer = command(run_eval, {(dir / "quip.packed.h5").string()}, {}, {test_limit});
  EXPECT_NEAR(accuracy(quip_integer), accuracy(quip), 0.002) << quip_integer.dump() << "\n" << quip.dump();
  fs::remove_all(dir);
}

// A freshly initialized MobileNetV2 (no trained checkpoint is committed): depthwise and pointwise
// convolutions, ReLU6 and inverted residuals through ptq, eval and integer inference of the packed file.
TEST(PtqCommand, MobileNetV2GoesThroughPtqEvalAndIntegerInference) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("mobilenet");
  fs::create_directories(dir);
  const std::string config = (dir / "mobilenet.pbtxt").string();
  std::ofstream(config) << "name: \"ptq_mobilenet\" data { mean: 0.286 std: 0.353 }\n"
                        << "model { arch: \"mobilenetv2\" width_multiplier: 0.5 }\n"
                        << "ptq { method: \"optq\" weight_bits: 4 act_bits: 8 }\n";
  const config::Experiment e = load_experiment(config);
  save_checkpoint(
      (dir / "init.h5").string(),
      {.model = build_model(e.model())->state_dict(), .optimizer = {}, .ema = {}, .assets = {}, .meta = {}});
  const std::vector<std::string> overrides{"init_checkpoint=" + (dir / "init.h5").string(),
                                           "data.train_limit=256", "data.test_limit=200",
                                           "ptq.calib_samples=32"};
  const json r = ptq(overrides, dir / "out", config);
  EXPECT_EQ(r["model"], "mobilenetv2");
  const json evaluated =
      command(run_eval, {(dir / "out" / "model.h5").string()}, {}, {"data.test_limit=200"});
  EXPECT_NEAR(evaluated["test_loss"].get<double>(), r["test_loss"].get<double>(), 1e-5);
  const fs::path packed = dir / "model.packed.h5";
  command(run_export, {(dir / "out" / "model.h5").string()},
          {{"format", "packed"}, {"out", packed.string()}});
  const json integer = command(run_eval, {packed.string()}, {}, {"data.test_limit=200"});
  EXPECT_NEAR(integer["test_loss"].get<double>(), r["test_loss"].get<double>(), 1e-3) << integer.dump();
  fs::remove_all(dir);
}

TEST(PtqCommand, CalibrationIsDrawnByCalibSeed) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("seed");
  const double first = ptq(subset({}), dir / "a")["total_loss"].get<double>();
  EXPECT_EQ(ptq(subset({}), dir / "b")["total_loss"].get<double>(), first);
  EXPECT_NE(ptq(subset({"ptq.calib_seed=2"}), dir / "c")["total_loss"].get<double>(), first);
  fs::remove_all(dir);
}

TEST(PtqCommand, BadInputNamesTheField) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  auto expect_has = [](const std::string& message, const std::string& part) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << message << "' lacks '" << part << "'";
  };
  const std::string unknown = ptq_error(subset({"ptq.method=gptq"}));
  expect_has(unknown, "ptq.method: unknown method 'gptq'");
  expect_has(unknown, quant_method_names(is_post_training));
  expect_has(ptq_error(subset({"ptq.method=lsq"})), "ptq.method: unknown method 'lsq'");
  expect_has(ptq_error(subset({"ptq.weight_bits=9"})), "ptq.weight_bits: 9");
  expect_has(ptq_error(subset({"ptq.act_bits=4"})), "ptq.act_bits: 4");
  expect_has(ptq_error(subset({"quant.method=lsq"})), "quant.method: 'lsq'");
  expect_has(ptq_error(subset({"ptq.grid=cubic"})), "ptq.grid: 'cubic'");
  expect_has(ptq_error(subset({"ptq.group_size=7", "ptq.method=rtn"})),
             "ptq.group_size: 7 does not divide the 9 input columns of layer 'stem'");
  expect_has(ptq_error(subset({"init_checkpoint="})), "init_checkpoint: qat ptq quantizes a trained model");
  expect_has(ptq_error(subset({"init_checkpoint=/nonexistent/float.h5"})),
             "init_checkpoint: /nonexistent/float.h5: no such file");
  expect_has(ptq_error(subset({"ptq.calib_samples=600"})), "ptq.calib_samples: 600 exceeds the 512");
  const fs::path dir = temp_dir("bad");
  fs::create_directories(dir);
  const std::string skip_all = (dir / "skip_all.pbtxt").string();
  std::ifstream in(ptq_config);
  std::ofstream(skip_all) << in.rdbuf() << "quant { rules { skip: true } }\n";
  expect_has(ptq_error(subset({}), skip_all), "quant.rules: model 'resnet20' has no conv/linear layer left");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
