#include "engine/kernels/matmul.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;

memory::dims to_dims(const Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

// Logical dims of an operand as the product sees it: padded to `ndim`, last two swapped if transposed.
Shape logical_dims(const Shape& shape, bool transpose, int ndim) {
  Shape dims(ndim - shape.size(), 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  if (transpose) std::swap(dims[ndim - 1], dims[ndim - 2]);
  return dims;
}

std::string describe(const char* name, const Tensor& t, bool transpose) {
  return std::string(name) + " " + t.str() + (transpose ? " (transposed)" : "");
}

// Batch dims of the result; each pair must be equal or contain a 1.
Shape result_dims(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  QAT_CHECK(a.dtype() == DType::f32 && b.dtype() == DType::f32, "matmul: expected f32 operands, got a ",
            a.str(), " and b ", b.str());
  QAT_CHECK(a.ndim() >= 2 && b.ndim() >= 2, "matmul: operands need at least 2 dims, got a ", a.str(),
            " and b ", b.str());
  const int ndim = std::max(a.ndim(), b.ndim());
  const Shape da = logical_dims(a.shape(), transpose_a, ndim);
  const Shape db = logical_dims(b.shape(), transpose_b, ndim);
  QAT_CHECK(da[ndim - 1] == db[ndim - 2], "matmul: inner dimensions differ: ", describe("a", a, transpose_a),
            " has K=", da[ndim - 1], " but ", describe("b", b, transpose_b), " has K=", db[ndim - 2]);
  Shape out(ndim);
  for (int i = 0; i < ndim - 2; ++i) {
    QAT_CHECK(da[i] == db[i] || da[i] == 1 || db[i] == 1, "matmul: batch dims of a ", a.str(), " and b ",
              b.str(), " do not broadcast");
    out[i] = std::max(da[i], db[i]);
  }
  out[ndim - 2] = da[ndim - 2];
  out[ndim - 1] = db[ndim - 1];
  return out;
}

memory::desc bias_desc(const Tensor& bias, const Shape& out, const Tensor& a, const Tensor& b) {
  QAT_CHECK(bias.dtype() == DType::f32 && bias.shape() == Shape{out.back()}, "matmul: bias ", bias.str(),
            " does not match N=", out.back(), " of the product of a ", a.str(), " and b ", b.str());
  Shape dims(out.size(), 1);
  dims.back() = out.back();
  return Tensor::plain_desc(dims, DType::f32);
}

}  // namespace

memory::desc matmul_operand_desc(const Shape& shape, bool transpose, int ndim, DType dtype) {
  Shape dims = logical_dims(shape, false, ndim);
  Shape strides = row_major_strides(dims);
  if (transpose) {
    std::swap(dims[ndim - 1], dims[ndim - 2]);
    std::swap(strides[ndim - 1], strides[ndim - 2]);
  }
  return {to_dims(dims), to_dnnl(dtype), to_dims(strides)};
}

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, const Tensor& bias) {
  const Shape out = result_dims(a, b, transpose_a, transpose_b);
  const int ndim = static_cast<int>(out.size());
  // In bf16 precision the operands are converted (plain, so transposes stay strides); dst stays f32.
  const DType type = Context::get().precision() == Precision::bf16 ? DType::bf16 : DType::f32;
  const Tensor pa = a.to(type);
  const Tensor pb = b.to(type);
  const Tensor pbias = bias.defined() ? bias.contiguous() : Tensor();
  const memory::desc src = matmul_operand_desc(a.shape(), transpose_a, ndim, type);
  const memory::desc weights = matmul_operand_desc(b.shape(), transpose_b, ndim, type);
  const memory::desc bias_md = bias.defined() ? bias_desc(bias, out, a, b) : memory::desc();
  Tensor dst = Tensor::empty(out);
  CacheKey key("matmul");
  key.add(src).add(weights).add(dst.desc()).add(static_cast<int64_t>(bias.defined()));
  if (bias.defined()) key.add(bias_md);
  auto& ctx = Context::get();
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::matmul>(key, [&] {
    const auto desc = bias.defined() ? dnnl::matmul::desc(src, weights, bias_md, dst.desc())
                                     : dnnl::matmul::desc(src, weights, dst.desc());
    return dnnl::matmul(dnnl::matmul::primitive_desc(desc, ctx.engine()));
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(src, ctx.engine(), pa.raw())},
                                       {DNNL_ARG_WEIGHTS, memory(weights, ctx.engine(), pb.raw())},
                                       {DNNL_ARG_DST, dst.memory()}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, memory(bias_md, ctx.engine(), pbias.raw()));
  prim.execute(ctx.stream(), args);
  ctx.stream().wait();
  return dst;
}

}  // namespace qat::kernels
