#include "autograd/ops/shape.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"
#include "engine/kernels/reorder.h"

namespace qat {
namespace {

Shape resolve(const Variable& x, Shape shape) {
  const auto unknown = std::count(shape.begin(), shape.end(), -1);
  QAT_CHECK(unknown <= 1, "reshape: more than one -1 in ", to_string(shape), " for input ", x.str());
  if (unknown == 1) {
    const int64_t known = -numel(shape);
    QAT_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot view ", x.str(), " as ", to_string(shape));
    *std::find(shape.begin(), shape.end(), -1) = x.numel() / known;
  }
  QAT_CHECK(numel(shape) == x.numel(), "reshape: cannot view ", x.str(), " as ", to_string(shape));
  return shape;
}

// `x` (plain) with its dimensions reordered: a strided view of the same buffer, reordered to plain.
Tensor permuted(const Tensor& x, const std::vector<int>& order) {
  const Tensor src = x.contiguous();
  const Shape strides = row_major_strides(src.shape());
  Shape dims(order.size()), view_strides(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    dims[i] = src.shape()[order[i]];
    view_strides[i] = strides[order[i]];
  }
  const dnnl::memory::desc view(dnnl::memory::dims(dims.begin(), dims.end()), to_dnnl(src.dtype()),
                                dnnl::memory::dims(view_strides.begin(), view_strides.end()));
  Tensor out = Tensor::empty(dims, src.dtype());
  kernels::reorder(view, src.raw(), out.desc(), out.raw());
  return out;
}

}  // namespace

Variable reshape(const Variable& x, Shape shape) {
  const Shape target = resolve(x, std::move(shape));
  const Shape original = x.shape();
  return Variable::record("reshape", x.data().reshape(target), {x},
                          [original](const Tensor& g) -> std::vector<Tensor> { return {g.reshape(original)}; });
}

Variable flatten(const Variable& x, int start_axis) {
  const int start = normalize_axis(start_axis, x.ndim(), "flatten");
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  shape.push_back(numel(Shape(x.shape().begin() + start, x.shape().end())));
  return reshape(x, shape);
}

Variable permute(const Variable& x, const std::vector<int>& order) {
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(x.ndim());
  std::iota(identity.begin(), identity.end(), 0);
  QAT_CHECK(sorted == identity, "permute: order is not a permutation of the ", x.ndim(), " dims of ", x.str());
  std::vector<int> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  return Variable::record("permute", permuted(x.data(), order), {x},
                          [inverse](const Tensor& g) -> std::vector<Tensor> { return {permuted(g, inverse)}; });
}

Variable transpose(const Variable& x, int a, int b) {
  std::vector<int> order(x.ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_axis(a, x.ndim(), "transpose")], order[normalize_axis(b, x.ndim(), "transpose")]);
  return permute(x, order);
}

}  // namespace qat
