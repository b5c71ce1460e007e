// The `qat` command: train, eval, bench, ... Every subcommand prints a one-line JSON result last and
// exits non-zero with a clear message on bad input.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "experiments/bench_command.h"
#include "experiments/command_line.h"
#include "experiments/compare_command.h"
#include "experiments/eval_command.h"
#include "experiments/export_command.h"
#include "experiments/inspect_command.h"
#include "experiments/train_command.h"

namespace {

constexpr const char* kUsage =
    "usage: qat train CONFIG [--set field.path=value ...] [--out DIR] [--resume] [--stop-after EPOCHS]\n"
    "       qat eval CHECKPOINT|PACKED_FILE [--set field.path=value ...]\n"
    "       qat compare CONFIG [--set field.path=value ...] [--out DIR]\n"
    "       qat bench --model resnet20|resnet18|mobilenetv2|bert [--batch N] [--steps K] [--warmup W]"
    " [--mode train|infer] [--quant METHOD:WBITS/ABITS] [--precision fp32|bf16] [--set field.path=value ...]"
    " [--baseline]\n"
    "       qat bench --packed PACKED_FILE [--batch N] [--steps K] [--warmup W]\n"
    "       qat inspect CHECKPOINT|PACKED_FILE [--set field.path=value ...]\n"
    "       qat export CHECKPOINT --format onnx|packed --out FILE [--text-data FILE] [--set field.path=value "
    "...]\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    const std::string command = argv[1];
    if (command == "train") {
      std::puts(qat::run_train(qat::CommandLine::parse(argc, argv, 2, {"resume"})).c_str());
      return 0;
    }
    if (command == "eval") {
      std::puts(qat::run_eval(qat::CommandLine::parse(argc, argv, 2)).c_str());
      return 0;
    }
    if (command == "compare") {
      std::puts(qat::run_compare(qat::CommandLine::parse(argc, argv, 2)).c_str());
      return 0;
    }
    if (command == "inspect") {
      std::puts(qat::run_inspect(qat::CommandLine::parse(argc, argv, 2)).c_str());
      return 0;
    }
    if (command == "export") {
      std::puts(qat::run_export(qat::CommandLine::parse(argc, argv, 2)).c_str());
      return 0;
    }
    if (command == "bench") {
      std::puts(qat::run_bench(qat::CommandLine::parse(argc, argv, 2, {"baseline"})).c_str());
      return 0;
    }
    qat::detail::fail("unknown command '", command, "'\n", kUsage);
  } catch (const qat::Error& e) {
    std::fprintf(stderr, "qat: error: %s\n", e.what());
    return 1;
  }
}
