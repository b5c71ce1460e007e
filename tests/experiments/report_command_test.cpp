// qat report: the alignment metrics and the Pareto front on hand-made inputs, then a report over run
// directories trained in the test (a tiny convnet, 2 methods × 2 bit settings × 2 seeds from one float
// model, one mixed-precision run, a directory without a run and a run with a broken checkpoint).
#include "experiments/report_command.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "datasets/fashion_mnist.h"
#include "experiments/compare_command.h"
#include "experiments/pareto_front.h"
#include "experiments/prediction_metrics.h"
#include "experiments/sample_summary.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using CsvRow = std::map<std::string, std::string>;

std::vector<CsvRow> parse_csv(const std::string& text) {
  auto split = [](const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (const char c : line) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        fields.emplace_back();
      else
        fields.back() += c;
    }
    return fields;
  };
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::vector<CsvRow> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = split(line);
    CsvRow row;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(row);
  }
  return rows;
}

// Brute force: i is on the front when no point is at most its size and at least its quality, better in one.
std::set<size_t> brute_force_front(const std::vector<ParetoPoint>& p) {
  std::set<size_t> front;
  for (size_t i = 0; i < p.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < p.size(); ++j)
      dominated |= p[j].size <= p[i].size && p[j].quality >= p[i].quality &&
                   (p[j].size < p[i].size || p[j].quality > p[i].quality);
    if (!dominated) front.insert(i);
  }
  return front;
}

TEST(ReportMetrics, CalibrationErrorOfKnownPredictors) {
  TestPredictions constant;
  for (int i = 0; i < 1000; ++i) {
    constant.top1.push_back(0);
    constant.confidence.push_back(0.9);
    constant.targets.push_back(i % 2);
  }
  EXPECT_NEAR(expected_calibration_error(constant), 0.4, 1e-9);
  TestPredictions calibrated;  // confidence 0.7 (bin 10 of 15), right 70% of the time
  for (int i = 0; i < 1000; ++i) {
    calibrated.top1.push_back(0);
    calibrated.confidence.push_back(0.7);
    calibrated.targets.push_back(i % 10 < 7 ? 0 : 1);
  }
  EXPECT_NEAR(expected_calibration_error(calibrated), 0.0, 1e-9);
  EXPECT_EQ(flip_rate(constant.top1, constant.top1), 0.0);
  EXPECT_NEAR(class_accuracy_spread(constant), 1.0, 1e-12);
}

TEST(ReportMetrics, ParetoFrontEqualsBruteForceWithTies) {
  std::mt19937 gen(7);
  std::uniform_int_distribution<int> coordinate(0, 6);  // few values: many ties
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<ParetoPoint> points(1 + trial % 12);
    for (ParetoPoint& p : points) p = {.size = double(coordinate(gen)), .quality = double(coordinate(gen))};
    const std::vector<size_t> front = pareto_front(points, true);
    EXPECT_EQ(std::set<size_t>(front.begin(), front.end()), brute_force_front(points)) << "trial " << trial;
  }
  const std::vector<ParetoPoint> perplexity = {{1, 10}, {2, 8}, {3, 9}, {2, 8}};
  EXPECT_EQ(pareto_front(perplexity, false), (std::vector<size_t>{0, 1, 3}));
}

TEST(ReportMetrics, SummaryIsSampleStatistics) {
  const SampleSummary s = summarize({1.0, 3.0, NAN});
  EXPECT_EQ(s.n, 2u);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(2.0));
}

// A run of seconds: 256 training images, width 4, one epoch.
const std::vector<std::string> tiny_run = {"data.train_limit=256", "data.test_limit=200", "model.width=4",
                                           "train.batch_size=64", "train.epochs=1"};

CommandLine train_line(const fs::path& out, std::vector<std::string> extra) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  line.overrides = tiny_run;
  line.overrides.insert(line.overrides.end(), extra.begin(), extra.end());
  line.options["out"] = out.string();
  return line;
}

// Runs for the report: float/, compare/runs/* (lsq and nipq at 4/4 and 2/2, seeds 1 and 2, from float/),
// mixed/ (NIPQ learning its bits to an average of 3), empty/ (no run) and broken/ (a corrupt checkpoint).
void build_runs(const fs::path& root) {
  run_train(train_line(root / "float", {}));
  const std::string init = "init_checkpoint=" + (root / "float" / "model.h5").string();
  CommandLine compare =
      train_line(root / "compare", {init, "compare.methods=lsq,nipq", "compare.bits=4/4,2/2",
                                    "compare.seeds=1,2", "train.log_every_steps=1"});
  run_compare(compare);
  run_train(train_line(root / "mixed",
                       {init, "quant.method=nipq", "quant.learn_bits=true", "quant.target_avg_bits=3"}));
  fs::create_directories(root / "empty");
  fs::create_directories(root / "broken");
  fs::copy_file(root / "float" / "result.json", root / "broken" / "result.json");
  std::ofstream(root / "broken" / "model.h5") << "not an HDF5 file";
}

CommandLine report_line(const fs::path& root) {
  CommandLine line;
  for (const char* dir : {"float", "compare", "mixed", "empty", "broken"})
    line.positional.push_back((root / dir).string());
  line.options = {
      {"out", (root / "report").string()}, {"timing", "quick"}, {"title", "W4 <vs> W2 & \"it's\""}};
  return line;
}

// Cell mean and std of the metric against the runs' own result.json.
void expect_cells_match_runs(const fs::path& root, const std::vector<CsvRow>& cells) {
  for (const std::string method : {"lsq", "nipq"})
    for (const int bits : {2, 4}) {
      std::vector<double> accuracy;
      for (const int seed : {1, 2}) {
        const std::string run =
            method + "_w" + std::to_string(bits) + "a" + std::to_string(bits) + "_s" + std::to_string(seed);
        accuracy.push_back(100 * json::parse(read(root / "compare" / "runs" / run / "result.json"))
                                     .at("test_accuracy")
                                     .get<double>());
      }
      const SampleSummary expected = summarize(accuracy);
      bool found = false;
      for (const CsvRow& c : cells)
        if (c.at("method") == method && c.at("w_bits") == std::to_string(bits) && c.at("budget").empty()) {
          found = true;
          EXPECT_EQ(c.at("seeds"), "2");
          EXPECT_NEAR(std::stod(c.at("mean")), expected.mean, 1e-4) << method << bits;
          EXPECT_NEAR(std::stod(c.at("std")), expected.std, 1e-4) << method << bits;
        }
      EXPECT_TRUE(found) << method << " W" << bits;
    }
}

void expect_pareto_matches_brute_force(const std::vector<CsvRow>& cells) {
  std::vector<ParetoPoint> points;
  std::set<size_t> marked;
  for (size_t i = 0; i < cells.size(); ++i) {
    points.push_back(
        {.size = std::stod(cells[i].at("size_bytes")), .quality = std::stod(cells[i].at("mean"))});
    if (cells[i].at("pareto") == "1") marked.insert(i);
  }
  EXPECT_EQ(marked, brute_force_front(points));
}

// scripts/check_report.mjs: the page in headless Chromium (no console error, no request besides itself,
// every plot drawn, a screenshot that is not blank). Skipped where Debian's chromium is missing, except on
// CI, where that is a failure.
void expect_page_works_in_chromium(const fs::path& out) {
  if (!fs::exists("/usr/bin/chromium")) {
    if (test::on_ci()) FAIL() << "/usr/bin/chromium is missing on CI (CI=true): scripts/setup.sh installs it";
    std::fprintf(
        stderr,
        "report test: /usr/bin/chromium missing, page check skipped (scripts/setup.sh installs it)\n");
    return;
  }
  const std::string command = "node " + std::string(QAT_SOURCE_DIR) + "/scripts/check_report.mjs " +
                              (out / "report.html").string() + " --screenshot " +
                              (out / "report.png").string() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_TRUE(fs::exists(out / "report.png")) << output;
}

TEST(ReportCommand, ReportsTrainedRunsAndNamesBadInput) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path root = fs::temp_directory_path() / ("qat_report_" + std::to_string(::getpid()));
  fs::remove_all(root);
  build_runs(root);
  const json result = json::parse(run_report(report_line(root)));
  EXPECT_EQ(result.at("runs"), 10) << result.dump();  // float, 8 compare runs, mixed (broken left out)
  EXPECT_EQ(result.at("not_runs"), 1);
  EXPECT_EQ(result.at("unreadable_checkpoints"), 1);

  const fs::path out = root / "report";
  const std::vector<CsvRow> cells = parse_csv(read(out / "cells.csv"));
  EXPECT_EQ(cells.size(), 6u);  // float, lsq and nipq at two widths, the mixed run
  expect_cells_match_runs(root, cells);
  expect_pareto_matches_brute_force(cells);
  for (const CsvRow& c : cells) {
    EXPECT_FALSE(c.at("size_bytes").empty()) << c.at("method");
    if (c.at("method") != "none") {
      EXPECT_FALSE(c.at("flip_rate").empty()) << c.at("method");
      EXPECT_FALSE(c.at("fake_ms_b128").empty()) << c.at("method");
    }
  }
  const std::string layers = read(out / "layers.csv");
  EXPECT_NE(layers.find("avg 3.0"), std::string::npos);

  const json findings = json::parse(read(out / "findings.json"));
  EXPECT_EQ(findings.at("findings").size(), 4u);
  EXPECT_EQ(findings.at("problems").at("not_runs").at(0), (root / "empty").string());
  EXPECT_EQ(findings.at("problems").at("unreadable_checkpoints").at(0).at("dir"), (root / "broken").string());

  const std::string html = read(out / "report.html");
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"plot\""), std::string::npos);
  EXPECT_NE(html.find("per step from steps.jsonl"), std::string::npos);
  EXPECT_NE(html.find("W4 &lt;vs&gt; W2 &amp; &quot;it&#39;s&quot;"), std::string::npos);

  const std::string runs_csv = read(out / "runs.csv"), cells_csv = read(out / "cells.csv");
  run_report(report_line(root));
  EXPECT_EQ(read(out / "runs.csv"), runs_csv);
  EXPECT_EQ(read(out / "cells.csv"), cells_csv);
  EXPECT_EQ(read(out / "layers.csv"), layers);
  expect_page_works_in_chromium(out);
  fs::remove_all(root);
}

}  // namespace
}  // namespace qat
