#include "engine/kernels/binary.h"

#include <algorithm>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

// `shape` left-padded with 1s to `ndim` dims.
Shape padded(const Shape& shape, size_t ndim) {
  Shape out(ndim - shape.size(), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

Tensor run_binary(dnnl::algorithm alg, const Tensor& a, const dnnl::memory::desc& b_desc, const Tensor& b) {
  auto& ctx = Context::get();
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::binary>(
      CacheKey("binary").add(static_cast<int64_t>(alg)).add(a.desc()).add(b_desc), [&] {
        return dnnl::binary(
            dnnl::binary::primitive_desc(dnnl::binary::desc(alg, a.desc(), b_desc, a.desc()), ctx.engine()));
      });
  Tensor out = Tensor::empty_like_desc(a.desc(), a.shape());
  prim.execute(ctx.stream(), {{DNNL_ARG_SRC_0, a.memory()},
                              {DNNL_ARG_SRC_1, dnnl::memory(b_desc, ctx.engine(), b.raw())},
                              {DNNL_ARG_DST, out.memory()}});
  ctx.stream().wait();
  return out;
}

}  // namespace

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  const Shape pa = padded(a, n), pb = padded(b, n);
  Shape out(n);
  for (size_t d = 0; d < n; ++d) {
    QAT_CHECK(pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1, op, ": shapes ", to_string(a), " and ",
              to_string(b), " do not broadcast");
    out[d] = pa[d] == 1 ? pb[d] : pa[d];
  }
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  const Tensor src = x.contiguous();
  const Shape in = padded(src.shape(), shape.size());
  Shape in_strides = row_major_strides(in);
  for (size_t d = 0; d < in.size(); ++d)
    if (in[d] == 1) in_strides[d] = 0;
  // A zero-stride view read by a reorder materializes the broadcast.
  const dnnl::memory::desc view(dnnl::memory::dims(shape.begin(), shape.end()), to_dnnl(src.dtype()),
                                dnnl::memory::dims(in_strides.begin(), in_strides.end()));
  Tensor out = Tensor::empty(shape, src.dtype());
  auto& ctx = Context::get();
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::reorder>(
      CacheKey("broadcast_to").add(view).add(out.desc()), [&] {
        return dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine(), view, ctx.engine(), out.desc()));
      });
  dnnl::memory src_mem(view, ctx.engine(), src.raw());
  dnnl::memory dst_mem = out.memory();
  prim.execute(ctx.stream(), src_mem, dst_mem);
  ctx.stream().wait();
  return out;
}

Tensor binary(dnnl::algorithm alg, const Tensor& a, const Tensor& b, const char* op) {
  QAT_CHECK(a.dtype() == DType::f32 && b.dtype() == DType::f32, op, ": expected f32 inputs, got ", a.str(),
            " and ", b.str());
  const Shape shape = broadcast_shape(a.shape(), b.shape(), op);
  if (a.shape() == b.shape()) {
    const Tensor b_same = b.to_layout(a.desc());
    return run_binary(alg, a, b_same.desc(), b_same);
  }
  // oneDNN broadcasts only its second operand; the first must already have the result's shape.
  const Tensor first = a.shape() == shape ? a.contiguous() : broadcast_to(a, shape);
  const Tensor second = b.contiguous();
  const Shape b_dims = padded(second.shape(), shape.size());
  return run_binary(alg, first, Tensor::plain_desc(b_dims, DType::f32), second);
}

Tensor reduce(dnnl::algorithm alg, const Tensor& x, const Shape& dims) {
  // oneDNN rejects a reduction that reduces nothing (every reduced axis already has size 1).
  if (numel(dims) == x.numel()) return x.contiguous().clone().reshape(dims);
  auto& ctx = Context::get();
  const dnnl::memory::desc dst_desc = Tensor::plain_desc(dims, DType::f32);
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::reduction>(
      CacheKey("reduce").add(static_cast<int64_t>(alg)).add(x.desc()).add(dst_desc), [&] {
        return dnnl::reduction(dnnl::reduction::primitive_desc(
            dnnl::reduction::desc(alg, x.desc(), dst_desc, 0.0f, 0.0f), ctx.engine()));
      });
  Tensor out = Tensor::empty(dims);
  prim.execute(ctx.stream(), {{DNNL_ARG_SRC, x.memory()}, {DNNL_ARG_DST, out.memory()}});
  ctx.stream().wait();
  return out;
}

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  QAT_CHECK(x.ndim() >= static_cast<int>(shape.size()), "sum_to_shape: cannot reduce ", x.str(), " to ",
            to_string(shape));
  return reduce(dnnl::algorithm::reduction_sum, x, padded(shape, x.shape().size())).reshape(shape);
}

}  // namespace qat::kernels
