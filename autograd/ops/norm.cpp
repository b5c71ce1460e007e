#include "autograd/ops/norm.h"

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/kernels/batch_norm.h"
#include "engine/kernels/layer_norm.h"

namespace qat {
namespace {

bool is_plain_channel_vector(const Tensor& t, int64_t channels) {
  return t.defined() && t.dtype() == DType::f32 && t.shape() == Shape{channels} && t.is_plain();
}

// Shapes of weight and bias are checked by the kernel.
void check_batch_norm(const Variable& x, const Variable& weight, const Variable& bias,
                      const Tensor& running_mean, const Tensor& running_var, bool training) {
  QAT_CHECK(x.ndim() == 4 && x.numel() > 0, "batch_norm2d: input ", x.str(),
            " must be a non-empty [N, C, H, W]");
  QAT_CHECK(weight.defined() && bias.defined(), "batch_norm2d: weight and bias must be defined for input ",
            x.str());
  const int64_t c = x.dim(1);
  QAT_CHECK(is_plain_channel_vector(running_mean, c) && is_plain_channel_vector(running_var, c),
            "batch_norm2d: running mean ", running_mean.str(), " and variance ", running_var.str(),
            " must be plain f32 [", c, "] for input ", x.str());
  QAT_CHECK(!training || x.numel() / c > 1,
            "batch_norm2d: training needs more than one value per channel, got ", x.str());
}

// running = (1 - momentum)·running + momentum·batch, with the batch variance made unbiased (n / (n - 1)).
void update_running_stats(Tensor& running_mean, Tensor& running_var, const kernels::BatchNormSaved& batch,
                          float momentum, int64_t n) {
  const float* mean = batch.mean.data<float>();
  const float* var = batch.variance.data<float>();
  float* rm = running_mean.data<float>();
  float* rv = running_var.data<float>();
  const float unbias = static_cast<float>(n) / static_cast<float>(n - 1);
  for (int64_t i = 0; i < running_mean.numel(); ++i) {
    rm[i] = (1.0f - momentum) * rm[i] + momentum * mean[i];
    rv[i] = (1.0f - momentum) * rv[i] + momentum * var[i] * unbias;
  }
}

}  // namespace

Variable batch_norm2d(const Variable& x, const Variable& weight, const Variable& bias, Tensor& running_mean,
                      Tensor& running_var, bool training, float momentum, float eps, bool fuse_relu) {
  check_batch_norm(x, weight, bias, running_mean, running_var, training);
  const kernels::BatchNormParams p{.eps = eps, .fuse_relu = fuse_relu, .global_stats = !training};
  const bool need_grad =
      GradMode::enabled() && (x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  // In evaluation the backward reads the running statistics: snapshot them against later updates.
  kernels::BatchNormResult r =
      training ? kernels::batch_norm_forward(x.data(), weight.data(), bias.data(), Tensor(), Tensor(), p,
                                             need_grad)
               : kernels::batch_norm_forward(x.data(), weight.data(), bias.data(),
                                             need_grad ? running_mean.clone() : running_mean,
                                             need_grad ? running_var.clone() : running_var, p, need_grad);
  if (training) update_running_stats(running_mean, running_var, r.saved, momentum, x.numel() / x.dim(1));
  return Variable::record("batch_norm2d", std::move(r.dst), {x, weight, bias},
                          [xd = x.data(), scale = weight.data(), shift = bias.data(),
                           saved = std::move(r.saved), p](const Tensor& g) -> std::vector<Tensor> {
                            kernels::BatchNormGrads grads =
                                kernels::batch_norm_backward(g, xd, scale, shift, saved, p);
                            return {std::move(grads.src), std::move(grads.scale), std::move(grads.shift)};
                          });
}

Variable layer_norm(const Variable& x, const Variable& weight, const Variable& bias, float eps) {
  QAT_CHECK(weight.defined() && bias.defined(), "layer_norm: weight and bias must be defined for input ",
            x.str());
  kernels::LayerNormResult r = kernels::layer_norm_forward(x.data(), weight.data(), bias.data(), eps);
  return Variable::record(
      "layer_norm", std::move(r.dst), {x, weight, bias},
      [xd = x.data(), scale = weight.data(), shift = bias.data(), mean = std::move(r.mean),
       variance = std::move(r.variance), eps](const Tensor& g) -> std::vector<Tensor> {
        kernels::LayerNormGrads grads =
            kernels::layer_norm_backward(g, xd, scale, shift, mean, variance, eps);
        return {std::move(grads.src), std::move(grads.scale), std::move(grads.shift)};
      });
}

}  // namespace qat
