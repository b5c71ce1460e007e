#include "engine/parse_number.h"

#include <charconv>

#include "engine/error.h"

namespace qat {

int64_t parse_int(const std::string& text, const std::string& what) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  QAT_CHECK(error != std::errc::result_out_of_range, what, ": '", text,
            "' is not an integer in the 64-bit range");
  QAT_CHECK(error == std::errc() && end == text.data() + text.size() && !text.empty(), what, ": '", text,
            "' is not an integer");
  return value;
}

double parse_double(const std::string& text, const std::string& what) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  QAT_CHECK(error != std::errc::result_out_of_range, what, ": '", text, "' is out of the number range");
  QAT_CHECK(error == std::errc() && end == text.data() + text.size() && !text.empty(), what, ": '", text,
            "' is not a number");
  return value;
}

}  // namespace qat
