#include "autograd/ops/softmax.h"

#include "engine/error.h"
#include "engine/kernels/softmax.h"

namespace qat {
namespace {

// Both backward passes need only the forward output.
Variable from_output(const char* op, const Variable& x, int axis, dnnl::algorithm alg) {
  QAT_CHECK(x.data().dtype() == DType::f32, op, ": expected f32 input, got ", x.str());
  // Checked here rather than by normalize_axis so that the message names the input's shape.
  QAT_CHECK(axis >= -x.ndim() && axis < x.ndim(), op, ": axis ", axis, " out of range for input ", x.str());
  const int resolved = axis < 0 ? axis + x.ndim() : axis;
  Tensor y = kernels::softmax_forward(alg, x.data(), resolved);
  return Variable::record(op, y, {x}, [y, alg, resolved](const Tensor& g) -> std::vector<Tensor> {
    return {kernels::softmax_backward(alg, g, y, resolved)};
  });
}

}  // namespace

Variable softmax(const Variable& x, int axis) {
  return from_output("softmax", x, axis, dnnl::algorithm::softmax_accurate);
}

Variable log_softmax(const Variable& x, int axis) {
  return from_output("log_softmax", x, axis, dnnl::algorithm::softmax_log);
}

}  // namespace qat
