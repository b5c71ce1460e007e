#include "engine/kernels/layer_norm.h"

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

struct ForwardEntry {
  dnnl::layer_normalization_forward::primitive_desc pd;
  dnnl::layer_normalization_forward primitive;
};

struct BackwardEntry {
  dnnl::layer_normalization_backward::primitive_desc pd;
  dnnl::layer_normalization_backward primitive;
};

// oneDNN sees x as [rows, C]; the statistics are [rows].
struct Rows {
  int64_t rows;
  int64_t channels;
  memory::desc data() const { return Tensor::plain_desc({rows, channels}, DType::f32); }
  memory::desc stats() const { return Tensor::plain_desc({rows}, DType::f32); }
};

Rows rows_of(const Tensor& x) {
  QAT_CHECK(x.dtype() == DType::f32 && x.ndim() >= 1 && x.numel() > 0, "layer_norm: input ", x.str(),
            " must be a non-empty f32 tensor [..., C]");
  return {x.numel() / x.dim(-1), x.dim(-1)};
}

dnnl::layer_normalization_forward::primitive_desc forward_pd(const Rows& r, float eps) {
  return {dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_training, r.data(), r.stats(), eps,
                                                  kFlags),
          Context::get().engine()};
}

const ForwardEntry& forward_entry(const Rows& r, float eps) {
  return PrimitiveCache::get().find_or_create<ForwardEntry>(
      CacheKey("layer_norm_fwd").add(r.data()).add(eps), [&] {
        const auto pd = forward_pd(r, eps);
        return ForwardEntry{pd, dnnl::layer_normalization_forward(pd)};
      });
}

const BackwardEntry& backward_entry(const Rows& r, float eps) {
  return PrimitiveCache::get().find_or_create<BackwardEntry>(
      CacheKey("layer_norm_bwd").add(r.data()).add(eps), [&] {
        const dnnl::layer_normalization_backward::primitive_desc pd(
            dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, r.data(), r.data(), r.stats(),
                                                     eps, kFlags),
            Context::get().engine(), forward_pd(r, eps));
        return BackwardEntry{pd, dnnl::layer_normalization_backward(pd)};
      });
}

}  // namespace

LayerNormResult layer_norm_forward(const Tensor& x, const Tensor& scale, const Tensor& shift, float eps) {
  const Rows r = rows_of(x);
  QAT_CHECK(scale.dtype() == DType::f32 && shift.dtype() == DType::f32 &&
                scale.shape() == Shape{r.channels} && shift.shape() == Shape{r.channels},
            "layer_norm: weight ", scale.str(), " and bias ", shift.str(), " must be [", r.channels,
            "] for input ", x.str());
  const ForwardEntry& e = forward_entry(r, eps);
  const Tensor src = x.reshape({r.rows, r.channels});
  const Tensor plain_scale = scale.contiguous();
  const Tensor plain_shift = shift.contiguous();
  LayerNormResult result{Tensor::empty(x.shape()), Tensor::empty({r.rows}), Tensor::empty({r.rows})};
  auto& ctx = Context::get();
  e.primitive.execute(ctx.stream(), {{DNNL_ARG_SRC, src.memory()},
                                     {DNNL_ARG_DST, memory(r.data(), ctx.engine(), result.dst.raw())},
                                     {DNNL_ARG_SCALE, plain_scale.memory()},
                                     {DNNL_ARG_SHIFT, plain_shift.memory()},
                                     {DNNL_ARG_MEAN, result.mean.memory()},
                                     {DNNL_ARG_VARIANCE, result.variance.memory()}});
  ctx.stream().wait();
  return result;
}

LayerNormGrads layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const Tensor& mean, const Tensor& variance,
                                   float eps) {
  QAT_CHECK(grad_out.shape() == x.shape(), "layer_norm backward: gradient ", grad_out.str(),
            " does not match input ", x.str());
  const Rows r = rows_of(x);
  const BackwardEntry& e = backward_entry(r, eps);
  const Tensor src = x.reshape({r.rows, r.channels});
  const Tensor diff_dst = grad_out.reshape({r.rows, r.channels});
  const Tensor plain_scale = scale.contiguous();
  const Tensor plain_shift = shift.contiguous();
  LayerNormGrads grads{Tensor::empty(x.shape()), Tensor::empty({r.channels}), Tensor::empty({r.channels})};
  auto& ctx = Context::get();
  e.primitive.execute(ctx.stream(), {{DNNL_ARG_SRC, src.memory()},
                                     {DNNL_ARG_MEAN, mean.memory()},
                                     {DNNL_ARG_VARIANCE, variance.memory()},
                                     {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                                     {DNNL_ARG_SCALE, plain_scale.memory()},
                                     {DNNL_ARG_SHIFT, plain_shift.memory()},
                                     {DNNL_ARG_DIFF_SRC, memory(r.data(), ctx.engine(), grads.src.raw())},
                                     {DNNL_ARG_DIFF_SCALE, grads.scale.memory()},
                                     {DNNL_ARG_DIFF_SHIFT, grads.shift.memory()}});
  ctx.stream().wait();
  return grads;
}

}  // namespace qat::kernels
