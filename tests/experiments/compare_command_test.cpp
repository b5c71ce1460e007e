// qat compare on a tiny real subset: every cell of the matrix runs once, the table and CSV list them,
// and a second invocation keeps the finished runs instead of redoing them.
#include "experiments/compare_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "datasets/fashion_mnist.h"
#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CommandLine compare_line(const fs::path& dir) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  line.overrides = {"data.train_limit=256", "data.test_limit=128", "model.width=4",
                    "train.batch_size=64",  "train.epochs=1",      "compare.methods=none,lsq,nipq",
                    "compare.bits=4/4",     "compare.seeds=1,2"};
  line.options["out"] = dir.string();
  return line;
}

TEST(CompareCommand, RunsEveryCellOnceAndSummarizes) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_compare_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string json = run_compare(compare_line(dir));
  EXPECT_NE(json.find("\"runs\": 6"), std::string::npos) << json;
  const std::string csv = read(dir / "compare.csv");
  EXPECT_NE(csv.find("none,32,32,1,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("none,32,32,2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("lsq,4,4,2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("nipq,4,4,1,"), std::string::npos) << csv;
  const std::string table = read(dir / "compare.md");
  EXPECT_NE(table.find("| none | 32/32 | 2 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| nipq | 4/4 | 2 |"), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(dir / "runs" / "lsq_w4a4_s1" / "model.h5"));

  const auto written = fs::last_write_time(dir / "runs" / "none_w32a32_s1" / "result.json");
  run_compare(compare_line(dir));
  EXPECT_EQ(fs::last_write_time(dir / "runs" / "none_w32a32_s1" / "result.json"), written);
  EXPECT_EQ(read(dir / "compare.csv"), csv);
  fs::remove_all(dir);
}

TEST(CompareCommand, MalformedBitsNameTheField) {
  CommandLine line = compare_line(fs::temp_directory_path() / "qat_compare_bad");
  line.overrides.emplace_back("compare.methods=lsq");
  line.overrides.emplace_back("compare.bits=4-4");
  try {
    run_compare(line);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("compare.bits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
