#pragma once
// Tensor: shape, dtype and a oneDNN memory layout over shared storage. No autograd knowledge.
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace qat {

/// An n-d array. Its layout is a oneDNN memory descriptor: plain row-major, or a blocked layout a
/// oneDNN primitive chose (kept between consecutive oneDNN ops, reordered to plain at boundaries).
class Tensor {
 public:
  /// An undefined tensor.
  Tensor() = default;

  /// Uninitialized plain row-major tensor.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32);
  /// Zero-filled plain tensor.
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  /// Plain f32 tensor filled with `value`.
  static Tensor full(const Shape& shape, float value);
  /// Plain f32 tensor with the given values (row-major); sizes must match.
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);
  /// Uninitialized tensor laid out as `desc` (logical shape = desc dims, or `shape` when given; a 0-d
  /// shape is kept even though its desc has dims {1}).
  static Tensor empty_like_desc(const dnnl::memory::desc& desc,
                                const std::optional<Shape>& shape = std::nullopt);

  /// True unless default-constructed.
  bool defined() const { return storage_ != nullptr; }
  /// Logical dimensions.
  const Shape& shape() const { return shape_; }
  /// Size of one dimension (negative counts from the end).
  int64_t dim(int axis) const;
  /// Number of dimensions.
  int ndim() const { return static_cast<int>(shape_.size()); }
  /// Number of elements.
  int64_t numel() const { return qat::numel(shape_); }
  /// Element type.
  DType dtype() const { return dtype_; }
  /// oneDNN layout of the data.
  const dnnl::memory::desc& desc() const { return desc_; }
  /// True when the layout is dense row-major.
  bool is_plain() const;
  /// "[2, 3] f32" (plus "blocked" when not plain), for error messages.
  std::string str() const;

  /// Typed pointer to the first element; requires a plain layout and matching dtype.
  template <typename T>
  T* data() const {
    check_plain_access(sizeof(T));
    return reinterpret_cast<T*>(raw());
  }
  /// Untyped pointer to the first element (any layout).
  void* raw() const { return static_cast<char*>(storage_->data()) + offset_; }
  /// A oneDNN memory object over this tensor's bytes.
  dnnl::memory memory() const;
  /// True when both share the same storage.
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }

  /// This tensor in plain row-major layout (itself when already plain).
  Tensor contiguous() const;
  /// This tensor laid out as `desc` (itself when already so laid out); same dims and dtype.
  Tensor to_layout(const dnnl::memory::desc& desc) const;
  /// Converted to `dtype` (plain layout; values saturate as oneDNN reorders do).
  Tensor to(DType dtype) const;
  /// Deep copy in plain layout.
  Tensor clone() const;
  /// View with a new shape of equal numel (copies first when not plain).
  Tensor reshape(const Shape& shape) const;
  /// View of rows [begin, end) along axis 0 (copies first when not plain).
  Tensor slice_rows(int64_t begin, int64_t end) const;
  /// Fills with a value (plain f32 only).
  void fill(float value);
  /// Copies the values out in row-major order as floats.
  std::vector<float> to_vector() const;
  /// Single value of a one-element f32 tensor.
  float item() const;

  /// Plain row-major descriptor for a shape and dtype (scalars map to dims {1}).
  static dnnl::memory::desc plain_desc(const Shape& shape, DType dtype);

 private:
  void check_plain_access(size_t element_size) const;

  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;
  Shape shape_;
  DType dtype_ = DType::f32;
  dnnl::memory::desc desc_;
};

}  // namespace qat
