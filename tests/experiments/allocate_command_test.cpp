// `qat allocate` end to end on the committed float ResNet-20 (Fashion-MNIST subsets): the rules file it
// writes, applied by `qat train`, gives exactly the bits and cost it reported (through `qat inspect` and the
// packed export); `qat inspect --rules-out` writes the same file back; bad input names what is wrong (an
// unknown proxy lists the known ones, a budget outside the reachable range names both bounds, a rules file
// naming a layer the model lacks names it).
#include "experiments/allocate_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "datasets/fashion_mnist.h"
#include "experiments/export_command.h"
#include "experiments/inspect_command.h"
#include "experiments/train_command.h"
#include "quant/export/packed_file.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string source_dir = QAT_SOURCE_DIR;
const std::string config = source_dir + "/experiments/configs/fmnist_resnet20_allocate.pbtxt";

std::vector<std::string> subset() {
  return {"init_checkpoint=" + source_dir + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
          "data.train_limit=256",
          "data.test_limit=128",
          "ptq.calib_samples=64",
          "train.batch_size=64",
          "train.epochs=1"};
}

std::string run(std::string (*command)(const CommandLine&), const std::vector<std::string>& positional,
                const std::map<std::string, std::string>& options, std::vector<std::string> extra = {}) {
  CommandLine line;
  line.positional = positional;
  line.options = options;
  line.overrides = subset();
  line.overrides.insert(line.overrides.end(), extra.begin(), extra.end());
  return command(line);
}

std::string error_of(std::string (*command)(const CommandLine&), const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options, std::vector<std::string> extra = {}) {
  return test::error_of([&] { run(command, positional, options, std::move(extra)); });
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("qat_allocate_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(AllocateCommand, RulesFileGivesTheReportedBitsAndCost) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = temp_dir("apply");
  const fs::path rules = dir / "rules.pbtxt";
  const json a = json::parse(
      run(run_allocate, {config}, {{"proxy", "ompq"}, {"budget", "avg_bits=2.7"}, {"out", rules.string()}}));
  const std::vector<int> bits = a["weight_bits"];
  ASSERT_EQ(bits.size(), 22U);
  EXPECT_EQ(bits.front(), 8);
  EXPECT_EQ(bits.back(), 8);
  EXPECT_LE(a["budget_avg_bits"].get<double>(), 2.7);
  EXPECT_GT(a["budget_avg_bits"].get<double>(), 2.6);  // the dp spends the budget (2..4-bit choices)
  EXPECT_TRUE(std::any_of(bits.begin() + 1, bits.end() - 1, [](int b) { return b == 2; }));
  EXPECT_TRUE(std::any_of(bits.begin() + 1, bits.end() - 1, [](int b) { return b > 2; }));
  EXPECT_LE(a["objective_greedy"].get<double>(), a["objective_dp"].get<double>() + 1e-9);
  EXPECT_GE(a["objective_lp"].get<double>(), a["objective_dp"].get<double>() - 1e-9);

  const json trained = json::parse(
      run(run_train, {config}, {{"out", (dir / "run").string()}}, {"quant.rules_file=" + rules.string()}));
  EXPECT_DOUBLE_EQ(trained["avg_weight_bits"].get<double>(), a["avg_weight_bits"].get<double>());
  const fs::path rules_back = dir / "back.pbtxt";
  const json inspected = json::parse(run(run_inspect, {(dir / "run" / "model.h5").string()},
                                         {{"rules-out", rules_back.string()}}, {"data.test_limit=64"}));
  EXPECT_EQ(inspected["weight_bits"].get<std::vector<int>>(), bits);
  EXPECT_DOUBLE_EQ(inspected["avg_weight_bits"].get<double>(), a["avg_weight_bits"].get<double>());
  EXPECT_DOUBLE_EQ(inspected["avg_act_bits"].get<double>(), a["avg_act_bits"].get<double>());
  EXPECT_DOUBLE_EQ(inspected["weight_size_bytes"].get<double>(), a["weight_size_bytes"].get<double>());
  EXPECT_NEAR(inspected["gbops"].get<double>(), a["gbops"].get<double>(), 1e-12);
  EXPECT_EQ(read(rules_back), read(rules));

  // The packed file stores exactly the bytes the allocator counted.
  const fs::path packed = dir / "model.packed.h5";
  run(run_export, {(dir / "run" / "model.h5").string()}, {{"format", "packed"}, {"out", packed.string()}});
  int64_t stored = 0;
  for (const PackedLayer& l : load_packed(packed.string()).layers) stored += stored_bytes(l.weight);
  EXPECT_EQ(stored, a["size_bytes"].get<int64_t>());
  fs::remove_all(dir);
}

TEST(AllocateCommand, BadInputIsNamed) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const std::string proxy = error_of(run_allocate, {config}, {{"proxy", "hawq_v3"}});
  EXPECT_NE(proxy.find("unknown proxy 'hawq_v3' (known: hawq_v1, hawq_v2, fisher, snip, bparams, ompq, emq)"),
            std::string::npos)
      << proxy;
  for (const std::string budget : {"avg_bits=1.5", "avg_bits=4.5"}) {
    const std::string e = error_of(run_allocate, {config}, {{"proxy", "bparams"}, {"budget", budget}});
    EXPECT_NE(e.find(budget + " outside [2, 4]"), std::string::npos) << e;
  }
  const std::string kind = error_of(run_allocate, {config}, {{"budget", "latency=3"}});
  EXPECT_NE(kind.find("avg_bits=B, size_kb=K or gbops=G"), std::string::npos) << kind;

  const fs::path dir = temp_dir("bad");
  std::ofstream(dir / "rules.pbtxt") << "rules { name_pattern: \"^layer1_0\\\\.conv1$\" weight_bits: 3 }\n"
                                     << "rules { name_pattern: \"^layer9_0\\\\.conv1$\" weight_bits: 3 }\n";
  const std::string missing = error_of(run_train, {config}, {{"out", (dir / "run").string()}},
                                       {"quant.rules_file=" + (dir / "rules.pbtxt").string()});
  EXPECT_NE(missing.find("rule 1"), std::string::npos) << missing;
  EXPECT_NE(missing.find("layer9_0"), std::string::npos) << missing;
  std::ofstream(dir / "broken.pbtxt") << "rules { weight_bits: three }\n";
  const std::string broken = error_of(run_train, {config}, {{"out", (dir / "run").string()}},
                                      {"quant.rules_file=" + (dir / "broken.pbtxt").string()});
  EXPECT_NE(broken.find("broken.pbtxt: line 1"), std::string::npos) << broken;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
