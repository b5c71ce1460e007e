#include "autograd/ops/conv.h"

namespace qat {

Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, const Conv2dParams& p) {
  const bool has_bias = bias.defined();
  const bool need_x = x.requires_grad();
  const bool need_w = w.requires_grad();
  const bool need_b = has_bias && bias.requires_grad();
  // The backward-weights pass reads x as the forward primitive did (blocked, maybe bf16): kept that way
  // it is not converted again.
  Tensor src;
  Tensor y = kernels::conv2d_forward(x.data(), w.data(), has_bias ? bias.data() : Tensor(), p,
                                     need_w || need_b ? &src : nullptr);
  return Variable::record("conv2d", std::move(y), {x, w, bias},
                          [src, wd = need_x ? w.data() : Tensor(), x_shape = x.shape(), w_shape = w.shape(),
                           p, need_x, need_w, need_b](const Tensor& g) -> std::vector<Tensor> {
                            std::vector<Tensor> grads(3);
                            // Both passes read dL/dy in the same layout and precision: converted once.
                            Tensor diff_dst = g;
                            if (need_x)
                              grads[0] = kernels::conv2d_backward_data(g, wd, x_shape, p, &diff_dst);
                            if (need_w || need_b) {
                              kernels::ConvWeightGrads wg =
                                  kernels::conv2d_backward_weights(diff_dst, src, w_shape, need_b, p);
                              if (need_w) grads[1] = std::move(wg.weight);
                              grads[2] = std::move(wg.bias);
                            }
                            return grads;
                          });
}

}  // namespace qat
