#pragma once
// Error type and checks: every failure names the op and the shapes involved.
#include <sstream>
#include <stdexcept>
#include <string>

namespace qat {

/// The exception every qat component throws for bad input or misuse.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
}  // namespace detail

}  // namespace qat

/// Throws qat::Error built from the streamed parts when `cond` is false.
#define QAT_CHECK(cond, ...)                       \
  do {                                             \
    if (!(cond)) ::qat::detail::fail(__VA_ARGS__); \
  } while (false)
