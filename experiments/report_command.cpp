#include "experiments/report_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <tuple>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "experiments/checkpoint_measures.h"
#include "experiments/json_line.h"
#include "experiments/report_cache.h"
#include "experiments/report_csv.h"
#include "experiments/report_findings.h"
#include "experiments/report_page.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What the report measures with: the cache, the timing plan and the --float references.
struct Measuring {
  ReportCache cache;
  std::string timing;
  TimingPlan plan;
  std::map<std::string, std::string> floats;  ///< model label -> float checkpoint
};

// --float MODEL=CHECKPOINT[,MODEL=CHECKPOINT...]
std::map<std::string, std::string> float_references(const std::string& option) {
  std::map<std::string, std::string> floats;
  size_t start = 0;
  while (start < option.size()) {
    const size_t end = std::min(option.find(',', start), option.size());
    const std::string item = option.substr(start, end - start);
    const size_t eq = item.find('=');
    QAT_CHECK(eq != std::string::npos && eq > 0, "--float: '", item, "' is not MODEL=CHECKPOINT");
    floats[item.substr(0, eq)] = item.substr(eq + 1);
    start = end + 1;
  }
  return floats;
}

void measure_reference(ReportRun& run, const Measuring& m, json& problems) {
  const auto forced = m.floats.find(run.key.model);
  run.reference_checkpoint =
      forced != m.floats.end() ? forced->second : run.measures.value("init_checkpoint", std::string());
  if (run.reference_checkpoint.empty()) return;
  try {
    const std::string limit = std::to_string(run.measures.value("test_limit", int64_t{0}));
    run.reference = m.cache.get(run.reference_checkpoint, "reference-" + limit, [&] {
      return measure_checkpoint(run.reference_checkpoint, TimingPlan{}, {"data.test_limit=" + limit});
    });
  } catch (const std::exception& e) {
    problems["unreadable_references"].push_back(
        {{"dir", run.dir}, {"checkpoint", run.reference_checkpoint}, {"error", e.what()}});
  }
}

// Measures the run's checkpoint (or takes the cached measures) and its float reference.
void measure_run(ReportRun& run, const Measuring& m, json& problems) {
  if (run.checkpoint.empty()) {
    run.checkpoint_error = "no checkpoint (model.h5, best.h5, last.h5)";
    measure_reference(run, m, problems);  // a --float reference still applies
    return;
  }
  try {
    run.measures =
        m.cache.get(run.checkpoint, m.timing, [&] { return measure_checkpoint(run.checkpoint, m.plan); });
    run.key = RunKey::from_json(run.measures.at("key"));
  } catch (const std::exception& e) {
    run.checkpoint_error = e.what();
    problems["unreadable_checkpoints"].push_back(
        {{"dir", run.dir}, {"checkpoint", run.checkpoint}, {"error", e.what()}});
    return;
  }
  measure_reference(run, m, problems);
}

std::vector<ReportRun> read_runs(const std::vector<std::string>& dirs, const Measuring& m, json& problems) {
  std::vector<ReportRun> runs;
  for (size_t i = 0; i < dirs.size(); ++i) {
    std::fprintf(stderr, "report: run %zu/%zu %s\n", i + 1, dirs.size(), dirs[i].c_str());
    try {
      ReportRun run = read_run(dirs[i]);
      measure_run(run, m, problems);
      if (!run.checkpoint.empty() && run.measures.empty()) continue;  // named in unreadable_checkpoints
      if (run.result.empty()) {
        problems["left_out"].push_back({{"dir", dirs[i]}, {"reason", "no result.json and no checkpoint"}});
        continue;
      }
      runs.push_back(std::move(run));
    } catch (const Error& e) {
      problems["left_out"].push_back({{"dir", dirs[i]}, {"reason", e.what()}});
    }
  }
  std::sort(runs.begin(), runs.end(), [](const ReportRun& a, const ReportRun& b) {
    return std::tie(a.key.model, a.key.experiment, a.key.method, a.key.w_bits, a.key.a_bits, a.key.budget,
                    a.key.seed, a.dir) < std::tie(b.key.model, b.key.experiment, b.key.method, b.key.w_bits,
                                                  b.key.a_bits, b.key.budget, b.key.seed, b.dir);
  });
  return runs;
}

json discovery_problems(const RunDiscovery& found) {
  json problems = {{"not_runs", json::array()},
                   {"left_out", json::array()},
                   {"unreadable_checkpoints", json::array()},
                   {"unreadable_references", json::array()}};
  for (const std::string& path : found.not_runs) {
    std::fprintf(
        stderr,
        "qat report: %s holds no run (no result.json or checkpoint, no runs/ of qat compare); left out\n",
        path.c_str());
    problems["not_runs"].push_back(path);
  }
  return problems;
}

std::string command_text(const CommandLine& line) {
  std::string text = "qat report";
  for (const std::string& p : line.positional) text.append(" ").append(p);
  for (const auto& [name, value] : line.options) text.append(" --").append(name).append(" ").append(value);
  return text;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return text;
}

}  // namespace

std::string run_report(const CommandLine& line) {
  QAT_CHECK(!line.positional.empty(), "qat report: expected RUN_DIRS... (run or qat compare directories)");
  QAT_CHECK(line.has("out"), "qat report: --out DIR is required");
  const fs::path out = line.get("out");
  QAT_CHECK(!fs::exists(out) || fs::is_directory(out), "--out: ", out.string(), " is not a directory");
  fs::create_directories(out);
  const std::string timing = line.get("timing", "full");
  const Measuring measuring{.cache = ReportCache((out / "cache").string()),
                            .timing = timing,
                            .plan = TimingPlan::named(timing),
                            .floats = float_references(line.get("float"))};
  const RunDiscovery found = discover_runs(line.positional);
  json problems = discovery_problems(found);
  const std::vector<ReportRun> runs = read_runs(found.runs, measuring, problems);
  std::vector<ReportCell> cells = group_cells(runs);
  mark_pareto_fronts(cells);
  const json findings = check_findings(cells);

  write_file_atomically((out / "runs.csv").string(), runs_csv(runs));
  write_file_atomically((out / "cells.csv").string(), cells_csv(cells));
  write_file_atomically((out / "layers.csv").string(), layers_csv(runs));
  std::vector<std::string> plot_errors;
  ReportPage page{.title = line.get("title", "qat report"),
                  .runs = {},
                  .cells = &cells,
                  .findings = findings,
                  .problems = problems,
                  .plots = draw_plots(runs, cells, GnuplotSvg((out / "plots").string()), plot_errors),
                  .command = command_text(line),
                  .date = utc_now()};
  for (const ReportRun& run : runs) page.runs.push_back(&run);
  problems["plot_errors"] = plot_errors;
  write_file_atomically((out / "findings.json").string(),
                        json({{"findings", findings}, {"problems", problems}}).dump(2) + "\n");
  write_file_atomically((out / "report.html").string(), page.html());

  json verdicts = json::array();
  for (const json& f : findings) verdicts.push_back(f.at("verdict"));
  JsonLine result;
  result.add("command", "report")
      .add("runs", static_cast<int64_t>(runs.size()))
      .add("cells", static_cast<int64_t>(cells.size()))
      .add("not_runs", static_cast<int64_t>(found.not_runs.size()))
      .add("unreadable_checkpoints", static_cast<int64_t>(problems["unreadable_checkpoints"].size()))
      .add("html", (out / "report.html").string())
      .add("cells_csv", (out / "cells.csv").string())
      .add("runs_csv", (out / "runs.csv").string())
      .add("layers_csv", (out / "layers.csv").string())
      .add("findings", (out / "findings.json").string())
      .add_raw("verdicts", verdicts.dump());
  return result.str();
}

}  // namespace qat
