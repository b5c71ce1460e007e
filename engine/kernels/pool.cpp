#include "engine/kernels/pool.h"

#include <unordered_map>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;

struct ForwardEntry {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward primitive;
};

struct BackwardEntry {
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward primitive;
};

const char* op_name(const Pool2dParams& p) {
  return p.algorithm == dnnl::algorithm::pooling_max ? "max_pool2d" : "avg_pool2d";
}

void check_problem(const Shape& x, const Pool2dParams& p) {
  QAT_CHECK(x.size() == 4, op_name(p), ": input ", to_string(x), " must be [N, C, H, W]");
  for (int i = 0; i < 2; ++i) {
    QAT_CHECK(p.kernel[i] >= 1 && p.stride[i] >= 1 && p.padding[i] >= 0 && 2 * p.padding[i] <= p.kernel[i],
              op_name(p), ": kernel ", p.kernel[i], ", stride ", p.stride[i], ", padding ", p.padding[i],
              " invalid for input ", to_string(x), " (padding at most half the kernel)");
    QAT_CHECK(x[2 + i] + 2 * p.padding[i] >= p.kernel[i], op_name(p), ": kernel ", p.kernel[i],
              " larger than input ", to_string(x), " padded by ", p.padding[i]);
  }
}

memory::dims to_dims(const std::array<int64_t, 2>& a) { return {a[0], a[1]}; }

Shape shape_of(const memory::desc& desc) {
  const memory::dims dims = desc.dims();
  return Shape(dims.begin(), dims.end());
}

dnnl::pooling_forward::primitive_desc forward_pd(const memory::desc& src, const Pool2dParams& p,
                                                 bool training) {
  const Shape x = shape_of(src);
  const Shape y = pool2d_output_shape(x, p);
  // Symmetric padding: oneDNN's integer division then gives PyTorch's floor-mode output size.
  const memory::desc dst({y.begin(), y.end()}, src.data_type(), memory::format_tag::any);
  return {dnnl::pooling_forward::desc(
              training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, p.algorithm,
              src, dst, to_dims(p.stride), to_dims(p.kernel), to_dims(p.padding), to_dims(p.padding)),
          Context::get().engine()};
}

CacheKey key(const char* kernel, const memory::desc& src, const Pool2dParams& p, bool training) {
  const Shape x = shape_of(src);
  check_problem(x, p);
  CacheKey key(kernel);
  key.add(src).add(static_cast<int64_t>(p.algorithm)).add(static_cast<int64_t>(training));
  for (int i = 0; i < 2; ++i) key.add(p.kernel[i]).add(p.stride[i]).add(p.padding[i]);
  return key;
}

}  // namespace

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

PoolResult pool2d_forward(const Tensor& x, const Pool2dParams& p, bool training) {
  QAT_CHECK(x.dtype() == DType::f32, op_name(p), ": expected an f32 input, got ", x.str());
  const auto& e =
      PrimitiveCache::get().find_or_create<ForwardEntry>(key("pool2d_fwd", x.desc(), p, training), [&] {
        const auto pd = forward_pd(x.desc(), p, training);
        return ForwardEntry{pd, dnnl::pooling_forward(pd)};
      });
  PoolResult result{Tensor::empty_like_desc(e.pd.dst_desc(), pool2d_output_shape(x.shape(), p)), Tensor()};
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x.memory()}, {DNNL_ARG_DST, result.dst.memory()}};
  const memory::desc workspace = e.pd.workspace_desc();
  if (workspace.get_size() > 0) {
    result.workspace = Tensor::empty_like_desc(workspace);
    args.emplace(DNNL_ARG_WORKSPACE, result.workspace.memory());
  }
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  stream.wait();
  return result;
}

Tensor pool2d_backward(const Tensor& grad_out, const Tensor& workspace, const memory::desc& x_desc,
                       const Pool2dParams& p) {
  const auto& e =
      PrimitiveCache::get().find_or_create<BackwardEntry>(key("pool2d_bwd", x_desc, p, true), [&] {
        const auto hint = forward_pd(x_desc, p, true);
        const dnnl::pooling_backward::primitive_desc pd(
            dnnl::pooling_backward::desc(p.algorithm, x_desc, hint.dst_desc(), to_dims(p.stride),
                                         to_dims(p.kernel), to_dims(p.padding), to_dims(p.padding)),
            Context::get().engine(), hint);
        return BackwardEntry{pd, dnnl::pooling_backward(pd)};
      });
  const Shape x = shape_of(x_desc);
  QAT_CHECK(grad_out.shape() == pool2d_output_shape(x, p), op_name(p), " backward: gradient ", grad_out.str(),
            " does not match the output for input ", to_string(x));
  const Tensor diff_dst = grad_out.to_layout(e.pd.diff_dst_desc());
  Tensor diff_src = Tensor::empty_like_desc(e.pd.diff_src_desc(), x);
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, diff_dst.memory()},
                                       {DNNL_ARG_DIFF_SRC, diff_src.memory()}};
  if (workspace.defined()) args.emplace(DNNL_ARG_WORKSPACE, workspace.memory());
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  stream.wait();
  return diff_src;
}

}  // namespace qat::kernels
