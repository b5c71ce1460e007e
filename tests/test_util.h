#pragma once
// Helpers shared by the test binaries.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/error.h"

namespace qat::test {

/// The message of the qat::Error that `f` throws, or "" when it throws none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// True on CI (CI=true), where a missing dataset fails a test instead of skipping it.
inline bool on_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// What ONNX Runtime (scripts/ort_eval.mjs) lacks here — "node" or "npm onnxruntime-node" — or "" when
/// it can run.
inline std::string missing_onnx_runtime() {
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node";
  if (!std::filesystem::exists(std::string(QAT_SOURCE_DIR) + "/scripts/node_modules/onnxruntime-node"))
    return "npm onnxruntime-node (cd scripts && npm install --ignore-scripts)";
  return "";
}

/// The standard output of `node scripts/ort_eval.mjs MODEL ARGUMENTS` (its JSON line).
inline std::string run_ort_eval(const std::string& model, const std::string& arguments) {
  const std::string command =
      "node " + std::string(QAT_SOURCE_DIR) + "/scripts/ort_eval.mjs " + model + " " + arguments;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string output;
  char buffer[4096];
  while (pipe && fgets(buffer, sizeof buffer, pipe.get())) output += buffer;
  return output;
}

/// The value of the numeric field `name` in a one-line JSON object; NaN when it is absent.
inline double json_field(const std::string& json, const std::string& name) {
  const size_t at = json.find("\"" + name + "\": ");
  return at == std::string::npos ? NAN : std::stod(json.substr(at + name.size() + 4));
}

}  // namespace qat::test

/// In a test body: skips the test when `present` is false (`what` is not installed), fails it on CI.
#define QAT_REQUIRE_DATASET(present, what)                                                     \
  do {                                                                                         \
    if (!(present)) {                                                                          \
      if (::qat::test::on_ci()) FAIL() << (what) << " is missing on CI (CI=true): install it"; \
      GTEST_SKIP() << (what) << " not installed";                                              \
    }                                                                                          \
  } while (false)

/// In a test body: skips the test when ONNX Runtime cannot run here, fails it on CI.
#define QAT_REQUIRE_ONNX_RUNTIME()                                 \
  QAT_REQUIRE_DATASET(::qat::test::missing_onnx_runtime().empty(), \
                      "ONNX Runtime (" + ::qat::test::missing_onnx_runtime() + ")")
