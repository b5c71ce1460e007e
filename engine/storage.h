#pragma once
// Storage: one 64-byte aligned allocation shared by tensors and their views.
#include <cstddef>
#include <cstdint>

namespace qat {

/// An aligned byte buffer; freed buffers go back to a size-keyed pool so that identical training
/// steps reuse memory instead of faulting in fresh pages.
class Storage {
 public:
  /// Allocates `bytes` (uninitialized) from the pool.
  explicit Storage(size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// Start of the buffer.
  void* data() const { return data_; }
  /// Size in bytes.
  size_t bytes() const { return bytes_; }

  /// Bytes held by live Storage objects (pooled free buffers excluded).
  static int64_t live_bytes();

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace qat
