// `qat export --format onnx` end to end: briefly trained LSQ models are exported — ResNet-20 at W4A4 and
// W2A2 (from the committed float checkpoint), a tiny MobileNetV2 and a tiny BERT supersense classifier
// (with quantized attention inputs, its test split written by --text-data) — and ONNX Runtime
// (scripts/ort_eval.mjs, npm onnxruntime-node) reaches the accuracy of `qat eval` with the same logits;
// post-training records of every kind (QuIP W2, SINQ W3 g64, OPTQ W4, BAQ W2 of ResNet-20 by `qat ptq`)
// give the same top class on every example in ONNX Runtime and the same accuracy packed; bad inputs name
// the problem.
#include "experiments/export_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"
#include "datasets/fashion_mnist.h"
#include "datasets/text/wordnet_glosses.h"
#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/eval_command.h"
#include "experiments/ptq_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kTestImages = 300;    // the image subset both evaluations run on
constexpr int kTestTexts = 200;     // the text test split of the BERT run (data.test_limit)
constexpr int kLogitExamples = 64;  // examples whose logits are compared one by one

const std::string source_dir = QAT_SOURCE_DIR;

// Runs `qat train` on experiments/configs/CONFIG with the overrides; returns the run's model.h5.
fs::path train(const std::string& config, const std::vector<std::string>& overrides, const fs::path& dir) {
  CommandLine line;
  line.positional = {source_dir + "/experiments/configs/" + config};
  line.overrides = overrides;
  line.options["out"] = dir.string();
  run_train(line);
  return dir / "model.h5";
}

// Trains the LSQ ResNet-20 from the float checkpoint for a few steps.
fs::path train_resnet20(const fs::path& dir, int bits) {
  return train("fmnist_resnet20_lsq_w4a4.pbtxt",
               {"init_checkpoint=" + source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
                "data.train_limit=256", "data.test_limit=64", "train.batch_size=64", "train.epochs=1",
                "quant.final_epochs=0", "quant.weight_bits=" + std::to_string(bits),
                "quant.act_bits=" + std::to_string(bits)},
               dir);
}

json export_onnx_file(const fs::path& checkpoint, const fs::path& out, const fs::path& text_data = {}) {
  CommandLine line;
  line.positional = {checkpoint.string()};
  line.options = {{"format", "onnx"}, {"out", out.string()}};
  if (!text_data.empty()) line.options["text-data"] = text_data.string();
  return json::parse(run_export(line));
}

// The JSON line of scripts/ort_eval.mjs with `arguments` (discarded when it printed none).
json run_onnx_runtime(const fs::path& model, const std::string& arguments) {
  return json::parse(
      test::run_ort_eval(model.string(), arguments + " --dump-logits " + std::to_string(kLogitExamples)),
      nullptr, false);
}

// The checkpoint's logits on the first kLogitExamples examples of its test split, as qat evaluates them
// (the split keeps its data.test_limit: a text limit picks examples spread over the whole split).
std::vector<std::vector<float>> qat_logits(const fs::path& checkpoint) {
  const CheckpointModel loaded =
      load_checkpoint_model(checkpoint.string(), {"train.eval_batch_size=" + std::to_string(kLogitExamples)});
  const auto data = make_pipeline(loaded.experiment, loaded.checkpoint.assets);
  data->test().start_epoch(0);
  Batch batch;
  EXPECT_TRUE(data->test().next(batch));
  NoGrad no_grad;
  loaded.model->eval();
  const Tensor logits = loaded.model->forward(Variable(batch.inputs)).data();
  const std::vector<float> flat = logits.to_vector();
  const int64_t classes = logits.dim(1);
  std::vector<std::vector<float>> rows;
  for (int64_t i = 0; i < logits.dim(0); ++i)
    rows.emplace_back(flat.begin() + i * classes, flat.begin() + (i + 1) * classes);
  return rows;
}

double qat_accuracy(const fs::path& checkpoint, int examples) {
  CommandLine line;
  line.positional = {checkpoint.string()};
  line.overrides = {"data.test_limit=" + std::to_string(examples)};
  return json::parse(run_eval(line))["test_accuracy"].get<double>();
}

// ONNX Runtime's result `ort` against qat on the same `examples`: equal accuracy, and logits that agree up
// to float rounding (1e-3 of the largest logit) on all but a few examples. The two runtimes sum products
// (and compute softmax, layer norm, GELU) in different orders, so now and then a value lies within float
// rounding of a rounding boundary of its activation grid and gets the neighbouring code in one of them;
// the examples where that happens (about 1 in 64 for ResNet-20) differ more.
void expect_same_results(const json& ort, const fs::path& checkpoint, int examples) {
  ASSERT_FALSE(ort.is_discarded()) << "scripts/ort_eval.mjs printed no JSON line";
  EXPECT_EQ(ort["samples"], examples);
  EXPECT_NEAR(ort["accuracy"].get<double>(), qat_accuracy(checkpoint, examples), 0.001) << ort.dump();
  const std::vector<std::vector<float>> expected = qat_logits(checkpoint);
  ASSERT_EQ(ort["logits"].size(), expected.size());
  int differing = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto got = ort["logits"][i].get<std::vector<float>>();
    ASSERT_EQ(got.size(), expected[i].size());
    float largest = 0.0f, difference = 0.0f;
    for (size_t j = 0; j < got.size(); ++j) {
      largest = std::max(largest, std::abs(expected[i][j]));
      difference = std::max(difference, std::abs(got[j] - expected[i][j]));
    }
    differing += difference > 1e-3f * largest;
  }
  EXPECT_LE(differing, kLogitExamples / 16) << "examples whose logits differ by more than float rounding";
}

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("qat_export_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// Exports the image model of `checkpoint` and compares ONNX Runtime with qat on the test subset.
void check_image_model(const fs::path& dir, const fs::path& checkpoint, int min_nodes) {
  const json exported = export_onnx_file(checkpoint, dir / "model.onnx");
  EXPECT_EQ(exported["format"], "onnx");
  EXPECT_EQ(exported["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(dir / "model.onnx")));
  EXPECT_GT(exported["nodes"].get<int>(), min_nodes);
  expect_same_results(run_onnx_runtime(dir / "model.onnx", "--limit " + std::to_string(kTestImages)),
                      checkpoint, kTestImages);
  fs::remove_all(dir);
}

void check_resnet20(int bits) {
  const fs::path dir = scratch("w" + std::to_string(bits));
  check_image_model(dir, train_resnet20(dir, bits), 100);
}

TEST(ExportCommand, OnnxRuntimeMatchesQatEvalW4A4) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_resnet20(4);
}

TEST(ExportCommand, OnnxRuntimeMatchesQatEvalW2A2) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_resnet20(2);
}

// A MobileNetV2 of width 0.25 (depthwise convolutions, ReLU6, residual adds) trained from scratch for a few
// steps at LSQ W3A4 with per-channel weights (3-bit codes in INT4 containers).
TEST(ExportCommand, OnnxRuntimeMatchesQatEvalMobileNetV2) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  const fs::path dir = scratch("mobilenetv2");
  const fs::path checkpoint =
      train("fmnist_mobilenetv2_fp32.pbtxt",
            {"model.width_multiplier=0.25", "data.train_limit=256", "data.test_limit=64",
             "train.batch_size=64", "train.epochs=1", "train.warmup_epochs=0", "quant.method=lsq",
             "quant.weight_bits=3", "quant.act_bits=4", "quant.per_channel=true"},
            dir);
  check_image_model(dir, checkpoint, 150);
}

// A 2-layer BERT (hidden 32) trained from scratch for one short epoch on supersense glosses at LSQ W4A4 with
// quantized attention inputs; ONNX Runtime runs the ids `qat export --text-data` wrote.
TEST(ExportCommand, OnnxRuntimeMatchesQatEvalBert) {
  QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
  QAT_REQUIRE_ONNX_RUNTIME();
  const fs::path dir = scratch("bert");
  const fs::path checkpoint =
      train("wordnet_bert_supersense.pbtxt",
            {"init_checkpoint=", "model.vocab_size=300", "model.layers=2", "model.hidden=32", "model.heads=2",
             "model.ffn=64", "model.max_length=32", "data.train_limit=800",
             "data.test_limit=" + std::to_string(kTestTexts), "train.batch_size=32",
             "train.eval_batch_size=64", "train.epochs=1", "train.lr=1e-3", "quant.method=lsq",
             "quant.quantize_attention=true", "quant.per_channel=true"},
            dir);
  const json exported = export_onnx_file(checkpoint, dir / "model.onnx", dir / "test.json");
  EXPECT_EQ(exported["model"], "bert");
  EXPECT_EQ(exported["text_examples"], kTestTexts);
  const json text = json::parse(std::ifstream(dir / "test.json"));
  ASSERT_EQ(text["sequences"].size(), static_cast<size_t>(kTestTexts));
  EXPECT_EQ(text["labels"].size(), static_cast<size_t>(kTestTexts));
  EXPECT_EQ(text["sequences"][0][0], 2) << "sequences start with [CLS]";
  // Batches of 50 pad to their own longest text, not to qat's multiples of 16: the mask makes that moot.
  expect_same_results(
      run_onnx_runtime(dir / "model.onnx", "--batch 50 --text-data " + (dir / "test.json").string()),
      checkpoint, kTestTexts);
  fs::remove_all(dir);
}

// `qat ptq` of the float ResNet-20 (64 calibration images) with `settings`, exported to ONNX and packed:
// ONNX Runtime (weights only, so up to float summation order) gives `qat eval`'s top class on every one
// of kTestImages test images and its logits within float rounding (`qat eval --logits` against
// ort_eval.mjs --reference); `qat eval` of the packed file gives the checkpoint's accuracy.
void check_ptq_resnet20(const std::string& name, const std::vector<std::string>& settings) {
  const fs::path dir = scratch("ptq_" + name);
  const std::string limit = "data.test_limit=" + std::to_string(kTestImages);
  CommandLine ptq;
  ptq.positional = {source_dir + "/experiments/configs/fmnist_resnet20_ptq.pbtxt"};
  ptq.overrides = {"init_checkpoint=" + source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
                   "data.train_limit=512", limit, "ptq.calib_samples=64"};
  ptq.overrides.insert(ptq.overrides.end(), settings.begin(), settings.end());
  ptq.options["out"] = dir.string();
  run_ptq(ptq);
  const fs::path checkpoint = dir / "model.h5";
  CommandLine eval;
  eval.positional = {checkpoint.string()};
  eval.overrides = {limit};
  eval.options["logits"] = (dir / "logits.json").string();
  const json qat = json::parse(run_eval(eval));
  export_onnx_file(checkpoint, dir / "model.onnx");
  const json ort = json::parse(
      test::run_ort_eval((dir / "model.onnx").string(), "--limit " + std::to_string(kTestImages) +
                                                            " --reference " + (dir / "logits.json").string()),
      nullptr, false);
  ASSERT_FALSE(ort.is_discarded()) << "scripts/ort_eval.mjs printed no JSON line";
  EXPECT_EQ(ort["reference"]["top1_matches"], kTestImages) << ort.dump();
  EXPECT_LT(ort["reference"]["max_rel_diff"].get<double>(), 1e-4) << ort.dump();
  // qat prints 6 significant digits; one image of kTestImages is 3e-3.
  EXPECT_NEAR(ort["accuracy"].get<double>(), qat["test_accuracy"].get<double>(), 1e-6);
  CommandLine pack;
  pack.positional = {checkpoint.string()};
  pack.options = {{"format", "packed"}, {"out", (dir / "model.packed.h5").string()}};
  run_export(pack);
  CommandLine packed;
  packed.positional = {(dir / "model.packed.h5").string()};
  packed.overrides = {limit};
  const json integer = json::parse(run_eval(packed));
  EXPECT_EQ(integer["inference"], "integer");
  EXPECT_NEAR(integer["test_accuracy"].get<double>(), qat["test_accuracy"].get<double>(), 1e-6)
      << integer.dump();
  EXPECT_NEAR(integer["test_loss"].get<double>(), qat["test_loss"].get<double>(), 1e-4) << integer.dump();
  fs::remove_all(dir);
}

TEST(ExportCommand, PtqQuipW2RunsInOnnxRuntimeAndPackedLikeQatEval) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_ptq_resnet20("quip_w2", {"ptq.method=quip", "ptq.weight_bits=2"});
}

TEST(ExportCommand, PtqSinqW3G64RunsInOnnxRuntimeAndPackedLikeQatEval) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_ptq_resnet20("sinq_w3", {"ptq.method=sinq", "ptq.weight_bits=3", "ptq.group_size=64"});
}

TEST(ExportCommand, PtqOptqW4RunsInOnnxRuntimeAndPackedLikeQatEval) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_ptq_resnet20("optq_w4", {"ptq.method=optq", "ptq.weight_bits=4"});
}

TEST(ExportCommand, PtqBaqW2RunsInOnnxRuntimeAndPackedLikeQatEval) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  QAT_REQUIRE_ONNX_RUNTIME();
  check_ptq_resnet20("baq_w2", {"ptq.method=baq", "ptq.weight_bits=2"});
}

std::string error_of(const CommandLine& line) {
  return test::error_of([&] { run_export(line); });
}

TEST(ExportCommand, BadInputsNameTheProblem) {
  const fs::path dir = fs::temp_directory_path() / ("qat_export_bad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path truncated = dir / "truncated.h5";
  {
    std::ifstream in(source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5", std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(truncated, std::ios::binary) << head;
  }
  CommandLine line;
  line.positional = {truncated.string()};
  line.options = {{"format", "onnx"}, {"out", (dir / "out.onnx").string()}};
  const std::string corrupt = error_of(line);
  EXPECT_NE(corrupt.find(truncated.string()), std::string::npos) << corrupt;
  EXPECT_NE(corrupt.find("truncated"), std::string::npos) << corrupt;
  EXPECT_FALSE(fs::exists(dir / "out.onnx"));

  line.positional = {(dir / "missing.h5").string()};
  EXPECT_NE(error_of(line).find("no such file"), std::string::npos) << error_of(line);

  line.options["format"] = "tflite";
  EXPECT_NE(error_of(line).find("--format 'tflite' is not supported (supported: onnx, packed)"),
            std::string::npos)
      << error_of(line);
  line.options = {{"format", "onnx"}};
  EXPECT_NE(error_of(line).find("--out FILE is required"), std::string::npos) << error_of(line);

  line.positional = {source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5"};
  line.options = {
      {"format", "onnx"}, {"out", (dir / "out.onnx").string()}, {"text-data", (dir / "t.json").string()}};
  EXPECT_NE(error_of(line).find("--text-data needs a text classifier"), std::string::npos) << error_of(line);
  EXPECT_FALSE(fs::exists(dir / "out.onnx")) << "nothing is written when the text data cannot be";

  CommandLine convnet;
  convnet.positional = {source_dir + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  convnet.overrides = {"data.train_limit=64", "data.test_limit=64", "train.epochs=1", "train.batch_size=32"};
  convnet.options["out"] = (dir / "convnet").string();
  run_train(convnet);
  line.positional = {(dir / "convnet" / "model.h5").string()};
  line.options = {{"format", "onnx"}, {"out", (dir / "out.onnx").string()}};
  EXPECT_NE(
      error_of(line).find("architecture 'convnet' is not supported (supported: resnet20, mobilenetv2, bert)"),
      std::string::npos)
      << error_of(line);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
