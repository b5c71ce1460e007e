#pragma once
// Helpers shared by the test binaries.
#include <cmath>
#include <cstdlib>
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
