#include "experiments/config_loader.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

std::string write_config(const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() / ("qat_config_" + std::to_string(::getpid()) + ".pbtxt");
  std::ofstream(path) << text;
  return path.string();
}

using test::error_of;

TEST(ConfigLoader, DefaultsComeFromTheSchema) {
  const auto e = load_experiment(write_config("name: \"x\"\n"));
  EXPECT_EQ(e.train().batch_size(), 128);
  EXPECT_EQ(e.data().dataset(), "fashion_mnist");
  EXPECT_EQ(e.seed(), 1u);
  EXPECT_EQ(e.train().precision(), "fp32");
}

TEST(ConfigLoader, PrecisionRoundTripsThroughTextAndOverrides) {
  config::Experiment e = parse_experiment("train { precision: \"bf16\" }", "text");
  std::string text;
  google::protobuf::TextFormat::PrintToString(e, &text);
  EXPECT_EQ(parse_experiment(text, "printed").train().precision(), "bf16");
  apply_override(e, "train.precision=fp32");
  EXPECT_EQ(e.train().precision(), "fp32");
}

TEST(ConfigLoader, EveryShippedConfigParses) {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(QAT_SOURCE_DIR) + "/experiments/configs"))
    EXPECT_NO_THROW(load_experiment(entry.path().string(), {})) << entry.path();  // parsed and validated
}

TEST(ConfigLoader, BadFieldNamesFileLineAndField) {
  const std::string path = write_config("name: \"x\"\ntrain {\n  epochz: 3\n}\n");
  const std::string message = error_of([&] { load_experiment(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("epochz"), std::string::npos) << message;
  EXPECT_NE(error_of([] { load_experiment("/nonexistent.pbtxt"); }).find("/nonexistent.pbtxt"),
            std::string::npos);
}

TEST(ConfigLoader, OverridesReachNestedRepeatedAndStringFields) {
  const auto e = load_experiment(write_config("name: \"x\"\n"),
                                 {"seed=7", "train.epochs=3", "data.train_limit=100", "model.in_channels=2",
                                  "data.mean=0.5,0.25", "model.arch=resnet20"});
  EXPECT_EQ(e.seed(), 7u);
  EXPECT_EQ(e.train().epochs(), 3);
  EXPECT_EQ(e.data().train_limit(), 100);
  ASSERT_EQ(e.data().mean_size(), 2);
  EXPECT_FLOAT_EQ(e.data().mean(1), 0.25f);
  EXPECT_EQ(e.model().arch(), "resnet20");
}

TEST(ConfigLoader, BadOverridesNameThePath) {
  config::Experiment e;
  EXPECT_NE(error_of([&] { apply_override(e, "train.epoch=3"); }).find("epoch"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(e, "train.epochs=many"); }).find("train.epochs"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(e, "seed"); }).find("field.path=value"), std::string::npos);
}

}  // namespace
}  // namespace qat
