#pragma once
// Writing text files so that a crash never leaves a half-written file under the final name.
#include <string>

namespace qat {

/// Writes `content` to `path + ".tmp"`, then renames it over `path`; errors name the file.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace qat
