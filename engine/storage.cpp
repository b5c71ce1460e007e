#include "engine/storage.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace qat {
namespace {

constexpr size_t kAlignment = 64;

// Under AddressSanitizer the pool is bypassed so that use-after-free stays detectable.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolEnabled = false;
#else
constexpr bool kPoolEnabled = true;
#endif

class Pool {
 public:
  void* take(size_t bytes) {
    if (kPoolEnabled) {
      std::lock_guard lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        return p;
      }
    }
    void* p = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void give(void* p, size_t bytes) {
    if (!kPoolEnabled) return std::free(p);
    std::lock_guard lock(mutex_);
    free_[bytes].push_back(p);
  }
  void release() {
    std::lock_guard lock(mutex_);
    for (auto& [bytes, list] : free_)
      for (void* p : list) std::free(p);
    free_.clear();
  }
  ~Pool() { release(); }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

std::atomic<int64_t> live{0};

}  // namespace

Storage::Storage(size_t bytes) : data_(pool().take(bytes == 0 ? 1 : bytes)), bytes_(bytes == 0 ? 1 : bytes) {
  live += static_cast<int64_t>(bytes_);
}

Storage::~Storage() {
  live -= static_cast<int64_t>(bytes_);
  pool().give(data_, bytes_);
}

int64_t Storage::live_bytes() { return live.load(); }

}  // namespace qat
