#pragma once
// ReportCache: what `qat report` measured of a checkpoint, stored in DIR/cache/ under the hash of the
// checkpoint's bytes and the timing plan, so that a rerun only measures new or changed checkpoints.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace qat {

/// The cache directory of one report.
class ReportCache {
 public:
  explicit ReportCache(std::string dir) : dir_(std::move(dir)) {}
  /// The cached entry of `checkpoint` under `variant` (e.g. the timing plan's name), or `measure()`'s
  /// result, stored for the next time.
  nlohmann::json get(const std::string& checkpoint, const std::string& variant,
                     const std::function<nlohmann::json()>& measure) const;

 private:
  std::string dir_;
};

/// FNV-1a 64 of a file's bytes as 16 hex digits; errors name the file.
std::string file_hash(const std::string& path);

}  // namespace qat
