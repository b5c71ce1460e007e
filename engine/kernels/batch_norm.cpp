#include "engine/kernels/batch_norm.h"

#include <unordered_map>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;
using dnnl::normalization_flags;

struct ForwardEntry {
  dnnl::batch_normalization_forward::primitive_desc pd;
  dnnl::batch_normalization_forward primitive;
};

struct BackwardEntry {
  dnnl::batch_normalization_backward::primitive_desc pd;
  dnnl::batch_normalization_backward primitive;
};

normalization_flags flags_of(const BatchNormParams& p) {
  normalization_flags flags = normalization_flags::use_scale | normalization_flags::use_shift;
  if (p.fuse_relu) flags |= normalization_flags::fuse_norm_relu;
  if (p.global_stats) flags |= normalization_flags::use_global_stats;
  return flags;
}

dnnl::batch_normalization_forward::primitive_desc forward_pd(const memory::desc& src,
                                                             const BatchNormParams& p, bool training) {
  const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  return {dnnl::batch_normalization_forward::desc(prop, src, p.eps, flags_of(p)), Context::get().engine()};
}

CacheKey key(const char* kernel, const memory::desc& src, const BatchNormParams& p, bool training) {
  CacheKey key(kernel);
  key.add(src).add(p.eps).add(static_cast<int64_t>(flags_of(p))).add(static_cast<int64_t>(training));
  return key;
}

bool is_channel_vector(const Tensor& t, int64_t channels) {
  return t.defined() && t.dtype() == DType::f32 && t.shape() == Shape{channels};
}

void check_inputs(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& mean,
                  const Tensor& variance, const BatchNormParams& p) {
  QAT_CHECK(x.dtype() == DType::f32 && x.ndim() >= 2 && x.ndim() <= 5, "batch_norm: input ", x.str(),
            " must be f32 [N, C, ...] with 2 to 5 dims");
  const int64_t c = x.dim(1);
  QAT_CHECK(is_channel_vector(scale, c) && is_channel_vector(shift, c), "batch_norm: weight ", scale.str(),
            " and bias ", shift.str(), " must be [", c, "] for input ", x.str());
  QAT_CHECK(!p.global_stats || (is_channel_vector(mean, c) && is_channel_vector(variance, c)),
            "batch_norm: running mean ", mean.str(), " and variance ", variance.str(), " must be [", c,
            "] for input ", x.str());
}

}  // namespace

BatchNormResult batch_norm_forward(const Tensor& x, const Tensor& scale, const Tensor& shift,
                                   const Tensor& mean, const Tensor& variance, const BatchNormParams& p,
                                   bool for_backward) {
  check_inputs(x, scale, shift, mean, variance, p);
  const bool training = !p.global_stats || for_backward;
  const auto& e =
      PrimitiveCache::get().find_or_create<ForwardEntry>(key("batch_norm_fwd", x.desc(), p, training), [&] {
        const auto pd = forward_pd(x.desc(), p, training);
        return ForwardEntry{pd, dnnl::batch_normalization_forward(pd)};
      });
  const int64_t c = x.dim(1);
  const Tensor plain_scale = scale.contiguous();
  const Tensor plain_shift = shift.contiguous();
  BatchNormResult r{Tensor::empty_like_desc(e.pd.dst_desc(), x.shape()),
                    {p.global_stats ? mean.contiguous() : Tensor::empty({c}),
                     p.global_stats ? variance.contiguous() : Tensor::empty({c}), Tensor()}};
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x.memory()},
                                       {DNNL_ARG_DST, r.dst.memory()},
                                       {DNNL_ARG_SCALE, plain_scale.memory()},
                                       {DNNL_ARG_SHIFT, plain_shift.memory()},
                                       {DNNL_ARG_MEAN, r.saved.mean.memory()},
                                       {DNNL_ARG_VARIANCE, r.saved.variance.memory()}};
  const memory::desc workspace = e.pd.workspace_desc();
  if (workspace.get_size() > 0) {
    r.saved.workspace = Tensor::empty_like_desc(workspace);
    args.emplace(DNNL_ARG_WORKSPACE, r.saved.workspace.memory());
  }
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  stream.wait();
  return r;
}

BatchNormGrads batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const BatchNormSaved& saved,
                                   const BatchNormParams& p) {
  QAT_CHECK(grad_out.shape() == x.shape(), "batch_norm backward: gradient ", grad_out.str(),
            " does not match input ", x.str());
  const auto& e =
      PrimitiveCache::get().find_or_create<BackwardEntry>(key("batch_norm_bwd", x.desc(), p, true), [&] {
        const dnnl::batch_normalization_backward::primitive_desc pd(
            dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, x.desc(), x.desc(), p.eps,
                                                     flags_of(p)),
            Context::get().engine(), forward_pd(x.desc(), p, true));
        return BackwardEntry{pd, dnnl::batch_normalization_backward(pd)};
      });
  const int64_t c = x.dim(1);
  const Tensor diff_dst = grad_out.to_layout(e.pd.diff_dst_desc());
  const Tensor plain_scale = scale.contiguous();
  const Tensor plain_shift = shift.contiguous();
  BatchNormGrads grads{Tensor::empty_like_desc(e.pd.diff_src_desc(), x.shape()), Tensor::empty({c}),
                       Tensor::empty({c})};
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x.memory()},
                                       {DNNL_ARG_MEAN, saved.mean.memory()},
                                       {DNNL_ARG_VARIANCE, saved.variance.memory()},
                                       {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                                       {DNNL_ARG_SCALE, plain_scale.memory()},
                                       {DNNL_ARG_SHIFT, plain_shift.memory()},
                                       {DNNL_ARG_DIFF_SRC, grads.src.memory()},
                                       {DNNL_ARG_DIFF_SCALE, grads.scale.memory()},
                                       {DNNL_ARG_DIFF_SHIFT, grads.shift.memory()}};
  if (saved.workspace.defined()) args.emplace(DNNL_ARG_WORKSPACE, saved.workspace.memory());
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  stream.wait();
  return grads;
}

}  // namespace qat::kernels
