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
    QAT_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot view ", x.str(), " as ",
              to_string(shape));
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

// Descriptor of the block [offset, offset + dims) inside a plain tensor of `full` shape.
dnnl::memory::desc block_desc(const Shape& full, const Shape& dims, const Shape& offsets, DType dtype) {
  return Tensor::plain_desc(full, dtype)
      .submemory_desc(dnnl::memory::dims(dims.begin(), dims.end()),
                      dnnl::memory::dims(offsets.begin(), offsets.end()));
}

// The block of `x` at `offsets` with `dims`, as a plain tensor.
Tensor read_block(const Tensor& x, const Shape& dims, const Shape& offsets) {
  const Tensor src = x.contiguous();
  Tensor out = Tensor::empty(dims, src.dtype());
  kernels::reorder(block_desc(src.shape(), dims, offsets, src.dtype()), src.raw(), out.desc(), out.raw());
  return out;
}

// Copies `block` into `target` (plain) at `offsets`.
void write_block(Tensor& target, const Tensor& block, const Shape& offsets) {
  const Tensor src = block.contiguous();
  kernels::reorder(src.desc(), src.raw(), block_desc(target.shape(), src.shape(), offsets, src.dtype()),
                   target.raw());
}

Shape offsets_along(int ndim, int axis, int64_t at) {
  Shape offsets(ndim, 0);
  offsets[axis] = at;
  return offsets;
}

}  // namespace

Variable slice(const Variable& x, int axis, int64_t begin, int64_t end) {
  const int a = normalize_axis(axis, x.ndim(), "slice");
  QAT_CHECK(0 <= begin && begin <= end && end <= x.dim(a), "slice: range [", begin, ", ", end,
            ") out of bounds for axis ", axis, " of ", x.str());
  Shape dims = x.shape();
  dims[a] = end - begin;
  const Shape offsets = offsets_along(x.ndim(), a, begin), x_shape = x.shape();
  return Variable::record("slice", read_block(x.data(), dims, offsets), {x},
                          [x_shape, offsets](const Tensor& g) -> std::vector<Tensor> {
                            Tensor grad = Tensor::zeros(x_shape);
                            write_block(grad, g, offsets);
                            return {grad};
                          });
}

Variable concat(const std::vector<Variable>& xs, int axis) {
  QAT_CHECK(!xs.empty(), "concat: no inputs");
  const int a = normalize_axis(axis, xs[0].ndim(), "concat");
  Shape shape = xs[0].shape();
  shape[a] = 0;
  std::vector<Shape> shapes;
  for (const Variable& x : xs) {
    Shape expected = xs[0].shape();
    expected[a] = x.ndim() == xs[0].ndim() ? x.dim(a) : -1;
    QAT_CHECK(x.shape() == expected && x.data().dtype() == xs[0].data().dtype(), "concat: input ", x.str(),
              " does not match ", xs[0].str(), " outside axis ", axis);
    shape[a] += x.dim(a);
    shapes.push_back(x.shape());
  }
  Tensor out = Tensor::empty(shape, xs[0].data().dtype());
  int64_t at = 0;
  for (const Variable& x : xs) {
    write_block(out, x.data(), offsets_along(out.ndim(), a, at));
    at += x.dim(a);
  }
  return Variable::record("concat", out, xs, [shapes, a](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    int64_t start = 0;
    for (const Shape& s : shapes) {
      grads.push_back(read_block(g, s, offsets_along(static_cast<int>(s.size()), a, start)));
      start += s[a];
    }
    return grads;
  });
}

Variable reshape(const Variable& x, Shape shape) {
  const Shape target = resolve(x, std::move(shape));
  const Shape original = x.shape();
  return Variable::record(
      "reshape", x.data().reshape(target), {x},
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
  QAT_CHECK(sorted == identity, "permute: order is not a permutation of the ", x.ndim(), " dims of ",
            x.str());
  std::vector<int> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  return Variable::record(
      "permute", permuted(x.data(), order), {x},
      [inverse](const Tensor& g) -> std::vector<Tensor> { return {permuted(g, inverse)}; });
}

Variable transpose(const Variable& x, int a, int b) {
  std::vector<int> order(x.ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_axis(a, x.ndim(), "transpose")], order[normalize_axis(b, x.ndim(), "transpose")]);
  return permute(x, order);
}

}  // namespace qat
