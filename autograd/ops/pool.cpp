#include "autograd/ops/pool.h"

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/kernels/pool.h"

namespace qat {
namespace {

Variable pool(const char* op, const Variable& x, const kernels::Pool2dParams& p) {
  const bool training = GradMode::enabled() && x.requires_grad();
  kernels::PoolResult r = kernels::pool2d_forward(x.data(), p, training);
  return Variable::record(op, std::move(r.dst), {x},
                          [workspace = std::move(r.workspace), x_desc = x.data().desc(),
                           p](const Tensor& g) -> std::vector<Tensor> {
                            return {kernels::pool2d_backward(g, workspace, x_desc, p)};
                          });
}

kernels::Pool2dParams square(dnnl::algorithm alg, int64_t kernel, int64_t stride, int64_t padding) {
  return {alg, {kernel, kernel}, {stride, stride}, {padding, padding}};
}

}  // namespace

Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding) {
  return pool("max_pool2d", x, square(dnnl::algorithm::pooling_max, kernel, stride, padding));
}

Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding) {
  return pool("avg_pool2d", x, square(dnnl::algorithm::pooling_avg_include_padding, kernel, stride, padding));
}

Variable global_avg_pool2d(const Variable& x) {
  QAT_CHECK(x.ndim() == 4, "global_avg_pool2d: input ", x.str(), " must be [N, C, H, W]");
  const int64_t h = x.dim(2);
  const int64_t w = x.dim(3);
  return pool("global_avg_pool2d", x, {dnnl::algorithm::pooling_avg_include_padding, {h, w}, {h, w}, {0, 0}});
}

}  // namespace qat
