#pragma once
// PrimitiveCache: kernels build each oneDNN primitive once per (descriptors, attributes) key.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/cache_key.h"

namespace qat {

/// Process-wide cache of built primitives (with their primitive descriptors), keyed by CacheKey.
class PrimitiveCache {
 public:
  /// The process-wide cache.
  static PrimitiveCache& get();

  /// Returns the entry for `key`, building it with `make` (and counting a creation) on a miss.
  template <typename Entry>
  const Entry& find_or_create(const CacheKey& key, const std::function<Entry()>& make) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key.str());
    if (it == entries_.end()) {
      ++created_;
      it = entries_.emplace(key.str(), std::make_shared<Entry>(make())).first;
    }
    return *static_cast<const Entry*>(it->second.get());
  }

  /// How many primitives have been built since start (cache misses).
  int64_t created() const { return created_; }
  /// Number of cached entries.
  size_t size() const { return entries_.size(); }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<void>> entries_;
  int64_t created_ = 0;
};

}  // namespace qat
