#include "engine/kernels/softmax.h"

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::softmax_v2_backward;
using dnnl::softmax_v2_forward;

softmax_v2_forward::primitive_desc forward_pd(dnnl::algorithm alg, const dnnl::memory::desc& md, int axis) {
  return {softmax_v2_forward::desc(dnnl::prop_kind::forward_training, alg, md, md, axis),
          Context::get().engine()};
}

CacheKey key(const char* kind, dnnl::algorithm alg, const dnnl::memory::desc& md, int axis) {
  return CacheKey(kind).add(static_cast<int64_t>(alg)).add(md).add(static_cast<int64_t>(axis));
}

}  // namespace

Tensor softmax_forward(dnnl::algorithm alg, const Tensor& src, int axis) {
  QAT_CHECK(src.dtype() == DType::f32, "softmax: expected f32 input, got ", src.str());
  QAT_CHECK(axis >= 0 && axis < src.ndim(), "softmax: axis ", axis, " out of range for ", src.str());
  const auto& prim = PrimitiveCache::get().find_or_create<softmax_v2_forward>(
      key("softmax_fwd", alg, src.desc(), axis),
      [&] { return softmax_v2_forward(forward_pd(alg, src.desc(), axis)); });
  Tensor dst = Tensor::empty_like_desc(src.desc(), src.shape());
  auto& ctx = Context::get();
  prim.execute(ctx.stream(), {{DNNL_ARG_SRC, src.memory()}, {DNNL_ARG_DST, dst.memory()}});
  ctx.stream().wait();
  return dst;
}

Tensor softmax_backward(dnnl::algorithm alg, const Tensor& diff_dst, const Tensor& dst, int axis) {
  QAT_CHECK(diff_dst.shape() == dst.shape(), "softmax backward: gradient ", diff_dst.str(),
            " does not match output ", dst.str());
  const dnnl::memory::desc& md = dst.desc();
  const auto& prim =
      PrimitiveCache::get().find_or_create<softmax_v2_backward>(key("softmax_bwd", alg, md, axis), [&] {
        const softmax_v2_backward::desc desc(alg, md, md, md, axis);
        return softmax_v2_backward(
            softmax_v2_backward::primitive_desc(desc, Context::get().engine(), forward_pd(alg, md, axis)));
      });
  const Tensor grad = diff_dst.to_layout(md);
  Tensor diff_src = Tensor::empty_like_desc(md, dst.shape());
  auto& ctx = Context::get();
  prim.execute(ctx.stream(), {{DNNL_ARG_DST, dst.memory()},
                              {DNNL_ARG_DIFF_DST, grad.memory()},
                              {DNNL_ARG_DIFF_SRC, diff_src.memory()}});
  ctx.stream().wait();
  return diff_src;
}

}  // namespace qat::kernels
