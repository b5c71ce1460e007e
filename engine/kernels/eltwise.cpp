#include "engine/kernels/eltwise.h"

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::eltwise_backward;
using dnnl::eltwise_forward;

eltwise_forward::primitive_desc forward_pd(dnnl::algorithm alg, const dnnl::memory::desc& md, float alpha,
                                           float beta) {
  return {eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, md, alpha, beta),
          Context::get().engine()};
}

CacheKey key(const char* kind, dnnl::algorithm alg, const dnnl::memory::desc& md, float alpha, float beta) {
  return CacheKey(kind).add(static_cast<int64_t>(alg)).add(md).add(alpha).add(beta);
}

}  // namespace

Tensor eltwise_forward(dnnl::algorithm alg, const Tensor& src, float alpha, float beta) {
  QAT_CHECK(src.dtype() == DType::f32, "eltwise: expected f32 input, got ", src.str());
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::eltwise_forward>(
      key("eltwise_fwd", alg, src.desc(), alpha, beta),
      [&] { return dnnl::eltwise_forward(forward_pd(alg, src.desc(), alpha, beta)); });
  Tensor dst = Tensor::empty_like_desc(src.desc(), src.shape());
  auto& ctx = Context::get();
  prim.execute(ctx.stream(), {{DNNL_ARG_SRC, src.memory()}, {DNNL_ARG_DST, dst.memory()}});
  ctx.stream().wait();
  return dst;
}

Tensor eltwise_backward(dnnl::algorithm alg, const Tensor& diff_dst, const Tensor& data, float alpha,
                        float beta) {
  QAT_CHECK(diff_dst.shape() == data.shape(), "eltwise backward: gradient ", diff_dst.str(),
            " does not match data ", data.str());
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::eltwise_backward>(
      key("eltwise_bwd", alg, data.desc(), alpha, beta), [&] {
        auto& eng = Context::get().engine();
        const eltwise_backward::desc desc(alg, data.desc(), data.desc(), alpha, beta);
        return dnnl::eltwise_backward(
            eltwise_backward::primitive_desc(desc, eng, forward_pd(alg, data.desc(), alpha, beta)));
      });
  const Tensor grad = diff_dst.to_layout(data.desc());
  Tensor diff_src = Tensor::empty_like_desc(data.desc(), data.shape());
  const bool uses_dst = alg == dnnl::algorithm::eltwise_logistic_use_dst_for_bwd ||
                        alg == dnnl::algorithm::eltwise_tanh_use_dst_for_bwd ||
                        alg == dnnl::algorithm::eltwise_relu_use_dst_for_bwd ||
                        alg == dnnl::algorithm::eltwise_clip_v2_use_dst_for_bwd;
  auto& ctx = Context::get();
  prim.execute(ctx.stream(), {{uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, data.memory()},
                              {DNNL_ARG_DIFF_DST, grad.memory()},
                              {DNNL_ARG_DIFF_SRC, diff_src.memory()}});
  ctx.stream().wait();
  return diff_src;
}

}  // namespace qat::kernels
