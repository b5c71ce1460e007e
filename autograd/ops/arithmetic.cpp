#include "autograd/ops/arithmetic.h"

#include "engine/kernels/binary.h"
#include "engine/kernels/eltwise.h"

namespace qat {
namespace {

using dnnl::algorithm;
using kernels::binary;
using kernels::sum_to_shape;

Tensor scaled(const Tensor& x, float c) {
  return kernels::eltwise_forward(algorithm::eltwise_linear, x, c, 0.0f);
}

}  // namespace

Variable add(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return Variable::record("add", binary(algorithm::binary_add, a.data(), b.data(), "add"), {a, b},
                          [sa, sb](const Tensor& g) -> std::vector<Tensor> {
                            return {sum_to_shape(g, sa), sum_to_shape(g, sb)};
                          });
}

Variable sub(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return Variable::record("sub", binary(algorithm::binary_sub, a.data(), b.data(), "sub"), {a, b},
                          [sa, sb](const Tensor& g) -> std::vector<Tensor> {
                            return {sum_to_shape(g, sa), scaled(sum_to_shape(g, sb), -1.0f)};
                          });
}

Variable mul(const Variable& a, const Variable& b) {
  const Tensor x = a.data(), y = b.data();
  return Variable::record("mul", binary(algorithm::binary_mul, x, y, "mul"), {a, b},
                          [x, y](const Tensor& g) -> std::vector<Tensor> {
                            return {
                                sum_to_shape(binary(algorithm::binary_mul, g, y, "mul backward"), x.shape()),
                                sum_to_shape(binary(algorithm::binary_mul, g, x, "mul backward"), y.shape())};
                          });
}

Variable div(const Variable& a, const Variable& b) {
  const Tensor y = b.data();
  const Tensor out = binary(algorithm::binary_div, a.data(), y, "div");
  const Shape sa = a.shape();
  return Variable::record("div", out, {a, b}, [out, y, sa](const Tensor& g) -> std::vector<Tensor> {
    const Tensor g_over_y = binary(algorithm::binary_div, g, y, "div backward");
    // d(a/b)/db = −(a/b)/b.
    const Tensor gb = binary(algorithm::binary_mul, g_over_y, out, "div backward");
    return {sum_to_shape(g_over_y, sa), scaled(sum_to_shape(gb, y.shape()), -1.0f)};
  });
}

Variable affine(const Variable& a, float c, float d) {
  return Variable::record("affine", kernels::eltwise_forward(algorithm::eltwise_linear, a.data(), c, d), {a},
                          [c](const Tensor& g) -> std::vector<Tensor> { return {scaled(g, c)}; });
}

}  // namespace qat
