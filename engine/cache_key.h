#pragma once
// CacheKey: a byte string that holds every descriptor field and attribute a primitive depends on.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <string_view>

namespace qat {

/// Builds a primitive-cache key; add every input that changes the primitive.
class CacheKey {
 public:
  /// Starts a key with the kernel's name.
  explicit CacheKey(std::string_view kernel) : bytes_(kernel) { bytes_ += '\0'; }
  /// Appends every field of a memory descriptor (dims, type, layout, extra flags).
  CacheKey& add(const dnnl::memory::desc& desc);
  /// Appends an integer.
  CacheKey& add(int64_t value);
  /// Appends a float bit-exactly.
  CacheKey& add(float value);
  /// Appends a list of dims.
  CacheKey& add(const dnnl::memory::dims& dims);
  /// The key bytes.
  const std::string& str() const { return bytes_; }

 private:
  template <typename T>
  void append_raw(const T& value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  std::string bytes_;
};

}  // namespace qat
