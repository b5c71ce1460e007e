#include "quant/grid_fake_quant.h"

#include "engine/error.h"
#include "quant/quant_tensor.h"

namespace qat {
namespace {

kernels::UniformGrid kernel_grid(const GridSpec& grid) {
  return {.scale = grid.step.data<float>(),
          .offset = grid.offset.defined() ? grid.offset.data<float>() : nullptr,
          .qmin = grid.qmin,
          .qmax = grid.qmax};
}

}  // namespace

Variable grid_fake_quant(const char* name, const Variable& x, const GridSpec& grid,
                         const std::vector<Variable>& scalars, GridScalarGrads scalar_grads) {
  const int64_t channels = grid.step.numel();
  QAT_CHECK(channels == 1 || (x.ndim() >= 1 && x.dim(0) == channels), name, ": ", channels,
            " per-channel steps do not match input ", x.str());
  const Tensor in = dense_for_kernel(x.data(), channels > 1);
  const int64_t inner = in.numel() / channels;
  Tensor out = empty_like(in);
  kernels::fake_quant_forward(raw_floats(in), raw_floats(out), channels, inner, kernel_grid(grid));
  std::vector<Variable> inputs{x};
  inputs.insert(inputs.end(), scalars.begin(), scalars.end());
  return Variable::record(name, std::move(out), inputs,
                          [in, grid, channels, inner,
                           scalar_grads = std::move(scalar_grads)](const Tensor& g) -> std::vector<Tensor> {
                            const Tensor grad = g.to_layout(in.desc());
                            Tensor dx = empty_like(in);
                            const kernels::GridGradSums sums =
                                kernels::fake_quant_backward(raw_floats(in), raw_floats(grad), raw_floats(dx),
                                                             channels, inner, kernel_grid(grid));
                            std::vector<Tensor> grads{dx};
                            if (scalar_grads) {
                              std::vector<Tensor> rest = scalar_grads(sums);
                              grads.insert(grads.end(), rest.begin(), rest.end());
                            }
                            return grads;
                          });
}

}  // namespace qat
