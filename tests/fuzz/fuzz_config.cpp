// Fuzz target: the config text and --set parsers and the range validation. The input is a config text,
// then optionally a line "%%" followed by one --set assignment per line. A qat::Error is the expected
// answer to bad input; anything else (another exception, a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/config_validation.h"

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's fixed entry point
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n%%\n");
  const std::string text = input.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    std::istringstream lines(input.substr(split + 4));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  try {
    qat::config::Experiment e = qat::parse_experiment(text, "fuzz");
    qat::apply_overrides(e, overrides, "fuzz");
  } catch (const qat::Error&) {
  }
  return 0;
}
