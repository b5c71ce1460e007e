// The `qat` command: train, eval, bench, ... Every subcommand prints a one-line JSON result last and
// exits non-zero with a clear message on bad input.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "engine/error.h"
#include "experiments/allocate_command.h"
#include "experiments/bench_command.h"
#include "experiments/command_line.h"
#include "experiments/compare_command.h"
#include "experiments/eval_command.h"
#include "experiments/export_command.h"
#include "experiments/inspect_command.h"
#include "experiments/proxybench_command.h"
#include "experiments/ptq_command.h"
#include "experiments/report_command.h"
#include "experiments/train_command.h"
#include "trainers/communicator.h"

namespace {

constexpr const char* kUsage =
    "usage: qat train CONFIG [--set field.path=value ...] [--out DIR] [--resume | --overwrite] [--stop-after "
    "EPOCHS]\n"
    "       qat eval CHECKPOINT|PACKED_FILE [--set field.path=value ...] [--logits FILE]\n"
    "       qat compare CONFIG [--set field.path=value ...] [--out DIR]\n"
    "       qat ptq CONFIG [--set field.path=value ...] [--out DIR] [--overwrite]\n"
    "       qat bench --model resnet20|resnet18|mobilenetv2|bert [--batch N] [--steps K] [--warmup W]"
    " [--mode train|infer] [--quant METHOD:WBITS/ABITS] [--precision fp32|bf16] [--set field.path=value ...]"
    " [--baseline]\n"
    "       qat bench --packed PACKED_FILE [--batch N] [--steps K] [--warmup W]\n"
    "       qat inspect CHECKPOINT|PACKED_FILE [--rules-out FILE] [--set field.path=value ...]\n"
    "       qat allocate CONFIG [--proxy NAME] [--budget avg_bits=B|size_kb=K|gbops=G] [--bits 2,3,4] "
    "[--solver dp|greedy] [--beta B] [--seed S] [--out RULES] [--set field.path=value ...]\n"
    "       qat proxybench build|rank|evolve CONFIG [--out DIR] [--proxy NAME|all] [--stop-after ROWS] "
    "[--set field.path=value ...]\n"
    "       qat export CHECKPOINT --format onnx|packed --out FILE [--text-data FILE] [--overwrite] "
    "[--set field.path=value ...]\n"
    "       qat report RUN_DIRS... --out DIR [--timing full|quick|off] [--float MODEL=CHECKPOINT[,...]] "
    "[--title TEXT]\n";

// Every subcommand: its runner and the options it takes (--set is always taken).
struct Subcommand {
  const char* name;
  std::string (*run)(const qat::CommandLine&);
  std::vector<std::string> valued;
  std::vector<std::string> flags;
};

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> all{
      {"train", qat::run_train, {"out", "stop-after"}, {"resume", "overwrite"}},
      {"eval", qat::run_eval, {"logits"}, {}},
      {"compare", qat::run_compare, {"out"}, {}},
      {"ptq", qat::run_ptq, {"out"}, {"overwrite"}},
      {"inspect", qat::run_inspect, {"rules-out"}, {}},
      {"allocate", qat::run_allocate, {"proxy", "budget", "bits", "solver", "beta", "seed", "out"}, {}},
      {"proxybench", qat::run_proxybench, {"out", "proxy", "stop-after"}, {}},
      {"export", qat::run_export, {"format", "out", "text-data"}, {"overwrite"}},
      {"report", qat::run_report, {"out", "timing", "float", "title"}, {}},
      {"bench",
       qat::run_bench,
       {"model", "packed", "batch", "steps", "warmup", "mode", "quant", "precision"},
       {"baseline"}},
  };
  return all;
}

// Prints the error and ends the process at once: after a failed write (a full disk) HDF5's own cleanup at
// exit can crash on the half-built file it still holds, and nothing that runs at exit is needed here.
[[noreturn]] void exit_with_error(const char* message) {
  std::fprintf(stderr, "qat: error: %s\n", message);
  std::fflush(nullptr);
  std::_Exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    const std::string command = argv[1];
    for (const Subcommand& sub : subcommands())
      if (command == sub.name) {
        // Under mpirun every rank runs the command: only train shares its work out, the others would
        // each do all of it and write the same files.
        QAT_CHECK(command == "train" || qat::world_communicator().size() == 1, "qat ", command,
                  ": runs on one ", "process; under mpirun only qat train divides its work over the ranks");
        std::puts(sub.run(qat::CommandLine::parse(argc, argv, 2, sub.valued, sub.flags)).c_str());
        return 0;
      }
    qat::detail::fail("unknown command '", command, "'\n", kUsage);
  } catch (const std::exception& e) {
    // qat::Error, or a library's exception (a filesystem error names its paths); never an abort.
    exit_with_error(e.what());
  } catch (...) {
    exit_with_error("unexpected exception of unknown type");
  }
}
