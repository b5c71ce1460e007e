#pragma once
// The English texts of Debian's fortunes packages (/usr/share/games/fortunes), one document per fortune.
#include <string>
#include <vector>

namespace qat {

/// Where Debian's fortunes / fortunes-min install their text files.
inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

/// Every fortune (entries separated by lines holding only "%") of the plain text files in `dir`, in file
/// name order; the index files (.dat) and the .u8 duplicates are skipped. Empty when `dir` is missing.
std::vector<std::string> load_fortunes(const std::string& dir = kFortunesDir);

}  // namespace qat
