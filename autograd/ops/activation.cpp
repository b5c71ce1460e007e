#include "autograd/ops/activation.h"

#include "engine/error.h"
#include "engine/kernels/eltwise.h"

namespace qat {
namespace {

using dnnl::algorithm;

// Ops whose derivative is a function of the input: save x.
Variable from_input(const char* op, const Variable& x, algorithm alg, float alpha = 0.0f, float beta = 0.0f) {
  const Tensor& in = x.data();
  return Variable::record(op, kernels::eltwise_forward(alg, in, alpha, beta), {x},
                          [in, alg, alpha, beta](const Tensor& g) -> std::vector<Tensor> {
                            return {kernels::eltwise_backward(alg, g, in, alpha, beta)};
                          });
}

// Ops whose derivative is a function of the output (sigmoid, tanh): save y, not x.
Variable from_output(const char* op, const Variable& x, algorithm alg) {
  Tensor out = kernels::eltwise_forward(alg, x.data());
  return Variable::record(op, out, {x}, [out, alg](const Tensor& g) -> std::vector<Tensor> {
    return {kernels::eltwise_backward(alg, g, out)};
  });
}

}  // namespace

Variable relu(const Variable& x) { return from_input("relu", x, algorithm::eltwise_relu); }

Variable relu6(const Variable& x) { return from_input("relu6", x, algorithm::eltwise_clip_v2, 0.0f, 6.0f); }

Variable gelu(const Variable& x) { return from_input("gelu", x, algorithm::eltwise_gelu_erf); }

Variable hardswish(const Variable& x) { return from_input("hardswish", x, algorithm::eltwise_hardswish); }

Variable sigmoid(const Variable& x) {
  return from_output("sigmoid", x, algorithm::eltwise_logistic_use_dst_for_bwd);
}

Variable tanh(const Variable& x) { return from_output("tanh", x, algorithm::eltwise_tanh_use_dst_for_bwd); }

Variable softplus(const Variable& x) { return from_input("softplus", x, algorithm::eltwise_soft_relu); }

Variable clamp(const Variable& x, float lo, float hi) {
  QAT_CHECK(lo <= hi, "clamp: lower bound ", lo, " exceeds upper bound ", hi, " for input ", x.str());
  return from_input("clamp", x, algorithm::eltwise_clip_v2, lo, hi);
}

}  // namespace qat
