#include "autograd/ops/reduce.h"

#include <numeric>

#include "engine/error.h"
#include "engine/kernels/binary.h"
#include "engine/kernels/eltwise.h"

namespace qat {
namespace {

// Sum (or mean when `average`) over `axes`; the gradient is the output gradient broadcast back
// (divided by the number of reduced elements for a mean).
Variable reduction(const char* op, const Variable& x, const std::vector<int>& axes, bool keepdim,
                   bool average) {
  QAT_CHECK(x.data().dtype() == DType::f32, op, ": expected f32 input, got ", x.str());
  std::vector<bool> reduced(x.ndim(), false);
  for (int axis : axes) {
    const int a = normalize_axis(axis, x.ndim(), op);
    QAT_CHECK(!reduced[a], op, ": axis ", axis, " repeated for input ", x.str());
    reduced[a] = true;
  }
  Shape kept = x.shape(), out_shape;
  for (int d = 0; d < x.ndim(); ++d) {
    if (reduced[d]) kept[d] = 1;
    if (!reduced[d] || keepdim) out_shape.push_back(kept[d]);
  }
  const auto alg = average ? dnnl::algorithm::reduction_mean : dnnl::algorithm::reduction_sum;
  const Tensor out = kernels::reduce(alg, x.data(), kept).reshape(out_shape);
  const Shape x_shape = x.shape();
  const float scale = average ? static_cast<float>(numel(kept)) / static_cast<float>(x.numel()) : 1.0f;
  return Variable::record(op, out, {x}, [kept, x_shape, scale](const Tensor& g) -> std::vector<Tensor> {
    const Tensor spread = kernels::broadcast_to(g.reshape(kept), x_shape);
    if (scale == 1.0f) return {spread};
    return {kernels::eltwise_forward(dnnl::algorithm::eltwise_linear, spread, scale, 0.0f)};
  });
}

std::vector<int> all_axes(const Variable& x) {
  std::vector<int> axes(x.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

}  // namespace

Variable sum(const Variable& x, const std::vector<int>& axes, bool keepdim) {
  return reduction("sum", x, axes, keepdim, false);
}

Variable mean(const Variable& x, const std::vector<int>& axes, bool keepdim) {
  return reduction("mean", x, axes, keepdim, true);
}

Variable sum(const Variable& x) { return sum(x, all_axes(x)); }

Variable mean(const Variable& x) { return mean(x, all_axes(x)); }

}  // namespace qat
