#include "autograd/ops/conv.h"

namespace qat {

Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, const Conv2dParams& p) {
  const bool has_bias = bias.defined();
  Tensor y = kernels::conv2d_forward(x.data(), w.data(), has_bias ? bias.data() : Tensor(), p);
  const bool need_x = x.requires_grad();
  const bool need_w = w.requires_grad();
  const bool need_b = has_bias && bias.requires_grad();
  return Variable::record(
      "conv2d", std::move(y), {x, w, bias},
      [xd = need_w || need_b ? x.data() : Tensor(), wd = need_x ? w.data() : Tensor(), x_shape = x.shape(),
       w_shape = w.shape(), p, need_x, need_w, need_b](const Tensor& g) -> std::vector<Tensor> {
        std::vector<Tensor> grads(3);
        if (need_x) grads[0] = kernels::conv2d_backward_data(g, wd, x_shape, p);
        if (need_w || need_b) {
          kernels::ConvWeightGrads wg = kernels::conv2d_backward_weights(g, xd, w_shape, need_b, p);
          if (need_w) grads[1] = std::move(wg.weight);
          grads[2] = std::move(wg.bias);
        }
        return grads;
      });
}

}  // namespace qat
