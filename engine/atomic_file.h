#pragma once
// Writing files so that a crash or a failed write never leaves a half-written file under the final name,
// nor a temporary file behind, and never damages the file being replaced.
#include <functional>
#include <string>

namespace qat {

/// Writes `content` to `path + ".tmp"`, then renames it over `path`; errors name the file.
void write_file_atomically(const std::string& path, const std::string& content);
/// Runs `write` (which creates `temporary` and throws on any failure, closing it included), then renames
/// `temporary` over `path`. On any failure `temporary` is removed and `path` is left as it was.
void commit_atomically(const std::string& path, const std::string& temporary,
                       const std::function<void()>& write);

}  // namespace qat
