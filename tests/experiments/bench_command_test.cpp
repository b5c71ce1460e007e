// qat bench runs a model's training step on random data and reports a steady state with no new primitives.
#include "experiments/bench_command.h"

#include <gtest/gtest.h>

#include "engine/context.h"
#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

CommandLine bench_line(const std::string& model, const std::string& mode) {
  CommandLine line;
  line.options = {{"model", model}, {"batch", "4"}, {"steps", "2"}, {"warmup", "2"}, {"mode", mode}};
  return line;
}

TEST(BenchCommand, TrainStepsCreateNoPrimitivesOnceWarm) {
  for (const std::string mode : {"train", "infer"}) {
    const std::string json = run_bench(bench_line("resnet20", mode));
    EXPECT_NE(json.find("\"ms_per_step\": "), std::string::npos) << json;
    EXPECT_NE(json.find("\"primitives_created_while_timed\": 0"), std::string::npos) << json;
  }
}

// bf16 convolutions and NIPQ with learned bits under a cost target (--set reaches the config), timed
// step by step against the float model in fp32.
TEST(BenchCommand, Bf16AndLearnedBitsStepsCreateNoPrimitivesOnceWarm) {
  if (!Context::bf16_supported()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  CommandLine line = bench_line("resnet20", "train");
  line.options["precision"] = "bf16";
  line.options["quant"] = "nipq:4/4";
  line.overrides = {"quant.learn_bits=true", "quant.target_avg_bits=3"};
  line.options["baseline"] = "true";
  const std::string json = run_bench(line);
  EXPECT_NE(json.find("\"precision\": \"bf16\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"learn_bits\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"primitives_created_while_timed\": 0"), std::string::npos) << json;
  EXPECT_GT(test::json_field(json, "fp32_ms_per_step"), 0.0) << json;
  EXPECT_GT(test::json_field(json, "ratio_to_fp32"), 0.0) << json;
  EXPECT_EQ(Context::get().precision(), Precision::f32);
}

TEST(BenchCommand, UnknownModelListsTheKnownOnes) {
  try {
    run_bench(bench_line("vgg", "train"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resnet20"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
