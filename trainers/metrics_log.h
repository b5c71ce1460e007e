#pragma once
// MetricsLog: metrics.jsonl, one JSON object per line (one per epoch and phase).
#include <string>

namespace qat {

/// Appends lines to a JSON-lines file, flushing each so a killed run keeps what it logged.
class MetricsLog {
 public:
  /// Logs to `path`; an empty path logs nowhere.
  explicit MetricsLog(std::string path) : path_(std::move(path)) {}
  /// Appends one JSON object (already serialized).
  void append(const std::string& json_object) const;
  /// Drops lines for epochs at or after `epoch` (a resumed run rewrites them).
  void truncate_from_epoch(int epoch) const;

 private:
  std::string path_;
};

}  // namespace qat
