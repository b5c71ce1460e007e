#include "experiments/compare_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/json_line.h"
#include "experiments/sample_summary.h"
#include "experiments/train_command.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Cell {
  std::string method;
  int weight_bits = 32, act_bits = 32;
  uint64_t seed = 0;
  std::string name() const {
    return method + "_w" + std::to_string(weight_bits) + "a" + std::to_string(act_bits) + "_s" +
           std::to_string(seed);
  }
  std::string bits() const { return std::to_string(weight_bits) + "/" + std::to_string(act_bits); }
};

struct Finished {
  Cell cell;
  json result;
  std::vector<double> train_losses;  ///< per epoch, from metrics.jsonl
};

std::pair<int, int> parse_bits(const std::string& text) {
  const size_t slash = text.find('/');
  QAT_CHECK(slash != std::string::npos, "compare.bits: '", text, "' is not of the form W/A (e.g. 4/4)");
  try {
    return {std::stoi(text.substr(0, slash)), std::stoi(text.substr(slash + 1))};
  } catch (const std::exception&) {
    detail::fail("compare.bits: '", text, "' is not of the form W/A (e.g. 4/4)");
  }
}

// Full precision has no bit-width: it runs once per seed whatever `bits` lists. Seeds vary slowest, so
// a matrix cut short has every method at the first seeds.
std::vector<Cell> matrix(const config::CompareConfig& c) {
  QAT_CHECK(c.methods_size() > 0 && c.seeds_size() > 0,
            "compare: the config needs compare.methods and compare.seeds");
  std::vector<Cell> cells;
  for (const uint64_t seed : c.seeds())
    for (const std::string& method : c.methods()) {
      if (method == "none") {
        cells.push_back({method, 32, 32, seed});
        continue;
      }
      QAT_CHECK(c.bits_size() > 0, "compare: method ", method, " needs compare.bits");
      for (const std::string& bits : c.bits()) {
        const auto [w, a] = parse_bits(bits);
        cells.push_back({method, w, a, seed});
      }
    }
  return cells;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  QAT_CHECK(in.good(), path.string(), ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    detail::fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
}

std::vector<double> train_losses(const fs::path& metrics) {
  std::vector<double> losses;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_discarded() && entry.value("phase", "") != "test")
      losses.push_back(entry.value("loss", NAN));
  }
  return losses;
}

Finished run_cell(const CommandLine& line, const Cell& cell, const fs::path& dir, size_t index,
                  size_t total) {
  const fs::path run_dir = dir / "runs" / cell.name();
  const bool done = fs::exists(run_dir / "result.json");
  std::fprintf(stderr, "compare: run %zu/%zu %s%s\n", index + 1, total, cell.name().c_str(),
               done ? " (finished earlier, kept)" : "");
  if (!done) {
    CommandLine train;
    train.positional = line.positional;
    train.overrides = {"train.log_every_steps=10"};  // the report's per-step loss; the config may change it
    train.overrides.insert(train.overrides.end(), line.overrides.begin(), line.overrides.end());
    train.overrides.insert(train.overrides.end(),
                           {"quant.method=" + cell.method, "seed=" + std::to_string(cell.seed)});
    if (cell.method != "none")  // full precision has no bit-width (its cell says 32/32)
      train.overrides.insert(train.overrides.end(), {"quant.weight_bits=" + std::to_string(cell.weight_bits),
                                                     "quant.act_bits=" + std::to_string(cell.act_bits)});
    // A killed cell resumes from its last epoch; one killed before its first epoch ended starts again.
    train.options = {{"out", run_dir.string()},
                     {fs::exists(run_dir / "last.h5") ? "resume" : "overwrite", "true"}};
    run_train(train);
  }
  return {cell, read_json(run_dir / "result.json"), train_losses(run_dir / "metrics.jsonl")};
}

std::string csv(const std::vector<Finished>& runs) {
  std::ostringstream out;
  out << "method,weight_bits,act_bits,seed,test_accuracy,best_test_accuracy,final_train_loss,seconds,"
         "avg_weight_bits,avg_act_bits,gbops\n";
  for (const Finished& r : runs)
    out << r.cell.method << ',' << r.cell.weight_bits << ',' << r.cell.act_bits << ',' << r.cell.seed << ','
        << r.result.value("test_accuracy", NAN) << ',' << r.result.value("best_test_accuracy", NAN) << ','
        << r.result.value("final_train_loss", NAN) << ',' << r.result.value("seconds", NAN) << ','
        << r.result.value("avg_weight_bits", NAN) << ',' << r.result.value("avg_act_bits", NAN) << ','
        << r.result.value("gbops", NAN) << '\n';
  return out.str();
}

// Runs grouped by (method, bits), in the order they were first listed.
std::vector<std::pair<std::string, std::vector<const Finished*>>> groups(const std::vector<Finished>& runs) {
  std::vector<std::pair<std::string, std::vector<const Finished*>>> out;
  for (const Finished& r : runs) {
    const std::string key = r.cell.method + " " + r.cell.bits();
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == key; });
    if (it == out.end()) it = out.insert(out.end(), {key, {}});
    it->second.push_back(&r);
  }
  return out;
}

std::string markdown(const config::Experiment& e, const std::vector<Finished>& runs,
                     const std::string& command) {
  std::ostringstream out;
  out << "# " << e.name() << ": method × bits × seeds\n\n"
      << "Command: `" << command << "`\n\n"
      << "Budget per run: " << e.train().epochs() << " epochs (" << e.quant().final_epochs()
      << " of them the final STE phase), batch " << e.train().batch_size() << ", lr " << e.train().lr()
      << ", train examples " << (e.data().train_limit() ? std::to_string(e.data().train_limit()) : "all")
      << ", starting from `" << (e.init_checkpoint().empty() ? "random init" : e.init_checkpoint()) << "`.\n"
      << "Every method gets the same schedule and budget.\n\n"
      << "| method | W/A bits | seeds | test accuracy (mean ± std) | min … max | final train loss | "
         "avg bits W/A (learned or set) | GBOPs |\n"
      << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  out.setf(std::ios::fixed);
  for (const auto& [key, members] : groups(runs)) {
    std::vector<double> accuracy, loss, weight_bits, act_bits, gbops;
    for (const Finished* r : members) {
      accuracy.push_back(100.0 * r->result.value("test_accuracy", NAN));
      loss.push_back(r->result.value("final_train_loss", NAN));
      weight_bits.push_back(r->result.value("avg_weight_bits", NAN));
      act_bits.push_back(r->result.value("avg_act_bits", NAN));
      gbops.push_back(r->result.value("gbops", NAN));
    }
    const SampleSummary a = summarize(accuracy), l = summarize(loss);
    out.precision(2);
    out << "| " << members.front()->cell.method << " | " << members.front()->cell.bits() << " | "
        << members.size() << " | " << a.mean << " ± " << a.std << " | " << a.min << " … " << a.max << " | ";
    out.precision(4);
    out << l.mean << " | ";
    out.precision(2);
    if (std::isnan(weight_bits.front()))
      out << "32 / 32 | – |\n";
    else
      out << summarize(weight_bits).mean << " / " << summarize(act_bits).mean << " | "
          << summarize(gbops).mean << " |\n";
  }
  return out.str();
}

void write_plot_data(const std::vector<Finished>& runs, const fs::path& dir) {
  std::ostringstream accuracy, curves;
  for (const auto& [key, members] : groups(runs)) {
    std::vector<double> values;
    for (const Finished* r : members) values.push_back(100.0 * r->result.value("test_accuracy", NAN));
    const SampleSummary s = summarize(values);
    accuracy << members.front()->cell.method << ' ' << members.front()->cell.weight_bits << ' ' << s.mean
             << ' ' << s.std << '\n';
  }
  for (const Finished& r : runs) {
    for (size_t epoch = 0; epoch < r.train_losses.size(); ++epoch)
      curves << epoch + 1 << ' ' << r.train_losses[epoch] << '\n';
    curves << "\n\n";
  }
  write_file_atomically((dir / "accuracy_vs_bits.dat").string(), accuracy.str());
  write_file_atomically((dir / "train_loss.dat").string(), curves.str());
}

// PNG plots through gnuplot (Debian's gnuplot-nox); a missing gnuplot only skips the plots.
bool plot(const std::vector<Finished>& runs, const fs::path& dir) {
  write_plot_data(runs, dir);
  const std::string accuracy = (dir / "accuracy_vs_bits.dat").string(),
                    curves = (dir / "train_loss.dat").string();
  std::vector<std::string> methods;
  for (const Finished& r : runs)
    if (std::find(methods.begin(), methods.end(), r.cell.method) == methods.end())
      methods.push_back(r.cell.method);
  std::ostringstream script;
  script << "set terminal pngcairo size 900,600 noenhanced\nset key outside right\nset grid\n"
         << "set output '" << (dir / "accuracy_vs_bits.png").string() << "'\n"
         << "set xlabel 'weight bits'\nset ylabel 'test accuracy (%)'\nplot ";
  for (size_t m = 0; m < methods.size(); ++m)
    script << (m ? ", " : "") << "'< grep \"^" << methods[m] << " \" " << accuracy
           << "' using 2:3:4 with yerrorlines title '" << methods[m] << "'";
  script << "\nset output '" << (dir / "train_loss.png").string() << "'\n"
         << "set xlabel 'epoch'\nset ylabel 'training loss'\nset logscale y\nplot ";
  for (size_t i = 0; i < runs.size(); ++i)
    script << (i ? ", " : "") << "'" << curves << "' index " << i << " using 1:2 with lines title '"
           << runs[i].cell.name() << "'";
  script << "\n";
  const fs::path script_path = dir / "plots.gp";
  write_file_atomically(script_path.string(), script.str());
  return std::system(("gnuplot " + script_path.string() + " 2>/dev/null").c_str()) == 0;
}

}  // namespace

std::string run_compare(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat compare: expected one CONFIG argument");
  const config::Experiment e = load_experiment(line.positional[0], line.overrides);
  const std::vector<Cell> cells = matrix(e.compare());
  const fs::path dir =
      line.get("out", e.compare().out_dir().empty() ? "runs/" + e.name() : e.compare().out_dir());
  fs::create_directories(dir / "runs");
  std::vector<Finished> runs;
  for (size_t i = 0; i < cells.size(); ++i) runs.push_back(run_cell(line, cells[i], dir, i, cells.size()));

  std::string command = "qat compare " + line.positional[0];
  for (const std::string& o : line.overrides) command += " --set " + o;
  write_file_atomically((dir / "compare.csv").string(), csv(runs));
  write_file_atomically((dir / "compare.md").string(), markdown(e, runs, command));
  const bool plotted = plot(runs, dir);
  JsonLine result;
  result.add("command", "compare")
      .add("name", e.name())
      .add("runs", static_cast<int64_t>(runs.size()))
      .add("table", (dir / "compare.md").string())
      .add("csv", (dir / "compare.csv").string())
      .add("plots",
           plotted ? (dir / "accuracy_vs_bits.png").string() : std::string("none (gnuplot missing)"));
  return result.str();
}

}  // namespace qat
