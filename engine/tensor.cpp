#include "engine/tensor.h"

#include <cstring>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/kernels/reorder.h"

namespace qat {
namespace {

Shape shape_of(const dnnl::memory::desc& desc) {
  const auto dims = desc.dims();
  return Shape(dims.begin(), dims.end());
}

}  // namespace

dnnl::memory::desc Tensor::plain_desc(const Shape& shape, DType dtype) {
  const Shape dims = shape.empty() ? Shape{1} : shape;
  const Shape strides = row_major_strides(dims);
  return {dnnl::memory::dims(dims.begin(), dims.end()), to_dnnl(dtype),
          dnnl::memory::dims(strides.begin(), strides.end())};
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) QAT_CHECK(d >= 0, "Tensor::empty: negative dimension in ", to_string(shape));
  Tensor t;
  t.storage_ = std::make_shared<Storage>(static_cast<size_t>(qat::numel(shape)) * size_of(dtype));
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.desc_ = plain_desc(shape, dtype);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, static_cast<size_t>(t.numel()) * size_of(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  QAT_CHECK(static_cast<int64_t>(values.size()) == qat::numel(shape), "Tensor::from_vector: ", values.size(),
            " values for shape ", to_string(shape));
  Tensor t = empty(shape);
  std::memcpy(t.raw(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::empty_like_desc(const dnnl::memory::desc& desc, const std::optional<Shape>& shape) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>(desc.get_size());
  t.shape_ = shape ? *shape : shape_of(desc);
  t.dtype_ = from_dnnl(desc.data_type());
  t.desc_ = desc;
  return t;
}

int64_t Tensor::dim(int axis) const { return shape_[normalize_axis(axis, ndim(), "Tensor::dim")]; }

bool Tensor::is_plain() const { return desc_ == plain_desc(shape_, dtype_); }

std::string Tensor::str() const {
  if (!defined()) return "<undefined>";
  return to_string(shape_) + " " + to_string(dtype_) + (is_plain() ? "" : " blocked");
}

void Tensor::check_plain_access(size_t element_size) const {
  QAT_CHECK(defined(), "Tensor::data: undefined tensor");
  QAT_CHECK(element_size == size_of(dtype_), "Tensor::data: element size ", element_size, " does not match ",
            str());
  QAT_CHECK(is_plain(), "Tensor::data: tensor ", str(), " is not plain; call contiguous() first");
}

dnnl::memory Tensor::memory() const { return {desc_, Context::get().engine(), raw()}; }

Tensor Tensor::contiguous() const {
  if (is_plain()) return *this;
  return to_layout(plain_desc(shape_, dtype_));
}

Tensor Tensor::to_layout(const dnnl::memory::desc& desc) const {
  if (desc == desc_) return *this;
  QAT_CHECK(desc.dims() == desc_.dims(), "Tensor::to_layout: dims differ for ", str());
  Tensor out = empty_like_desc(desc, shape_);
  kernels::reorder(desc_, raw(), desc, out.raw());
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_ && is_plain()) return *this;
  Tensor out = empty(shape_, dtype);
  kernels::reorder(desc_, raw(), out.desc_, out.raw());
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_);
  kernels::reorder(desc_, raw(), out.desc_, out.raw());
  return out;
}

Tensor Tensor::reshape(const Shape& shape) const {
  QAT_CHECK(qat::numel(shape) == numel(), "reshape: cannot view ", str(), " as ", to_string(shape));
  Tensor out = contiguous();
  out.shape_ = shape;
  out.desc_ = plain_desc(shape, dtype_);
  return out;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  QAT_CHECK(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0], "slice_rows: rows [", begin, ", ",
            end, ") out of range for ", str());
  Tensor out = contiguous();
  const int64_t row = shape_[0] == 0 ? 0 : numel() / shape_[0];
  out.offset_ += static_cast<size_t>(begin * row) * size_of(dtype_);
  out.shape_[0] = end - begin;
  out.desc_ = plain_desc(out.shape_, dtype_);
  return out;
}

void Tensor::fill(float value) {
  float* p = data<float>();
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) p[i] = value;
}

std::vector<float> Tensor::to_vector() const {
  const Tensor plain = to(DType::f32);
  const float* p = plain.data<float>();
  return std::vector<float>(p, p + numel());
}

float Tensor::item() const {
  QAT_CHECK(numel() == 1, "Tensor::item: tensor ", str(), " has ", numel(), " elements, expected 1");
  return to_vector()[0];
}

}  // namespace qat
