#pragma once
// Helpers shared by the test binaries.
#include <cmath>
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

/// The value of the numeric field `name` in a one-line JSON object; NaN when it is absent.
inline double json_field(const std::string& json, const std::string& name) {
  const size_t at = json.find("\"" + name + "\": ");
  return at == std::string::npos ? NAN : std::stod(json.substr(at + name.size() + 4));
}

}  // namespace qat::test
