#pragma once
// Numbers from text (flags, file attributes, config strings): the whole text must be the number, and an
// error names what was being read instead of the standard library's bare "stoi".
#include <cstdint>
#include <string>

namespace qat {

/// `text` as an integer; errors name `what` (e.g. "--batch" or "checkpoint x.h5: attribute 'epoch'").
int64_t parse_int(const std::string& text, const std::string& what);
/// `text` as a double; errors name `what`.
double parse_double(const std::string& text, const std::string& what);

}  // namespace qat
