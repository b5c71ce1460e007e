#include "engine/kernels/conv.h"

#include <unordered_map>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;

// Each entry keeps its primitive with its pd and the reorder between the owner's plain weight and the
// layout the primitive chose (empty when it takes the plain layout). Backward entries are built on
// first use, so inference never builds them.
struct ForwardEntry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  memory::desc plain_weights;
  dnnl::reorder weights_in;
};

struct DataEntry {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data primitive;
  memory::desc plain_weights;
  dnnl::reorder weights_in;
};

struct WeightsEntry {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights primitive;
  memory::desc plain_weights;
  dnnl::reorder diff_weights_out;
};

memory::dims to_dims(const Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

memory::desc any_desc(const Shape& shape, memory::data_type type) {
  return {to_dims(shape), type, memory::format_tag::any};
}

// The type the primitives take their inputs (and weights) in; outputs and gradients are always f32.
memory::data_type input_type() {
  return Context::get().precision() == Precision::bf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

// oneDNN wants grouped weights as {g, out/g, in/g, kh, kw}; the plain [out, in/g, kh, kw] bytes are the same.
Shape onednn_weight_dims(const Shape& w, int64_t groups) {
  if (groups == 1) return w;
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

int64_t output_size(int64_t in, int64_t kernel, const Conv2dParams& p) {
  return (in + 2 * p.padding - p.dilation * (kernel - 1) - 1) / p.stride + 1;
}

void check_problem(const Shape& x, const Shape& w, const Conv2dParams& p) {
  QAT_CHECK(x.size() == 4 && w.size() == 4, "conv2d: input ", to_string(x), " and weight ", to_string(w),
            " must be [N, C, H, W] and [out, in/groups, KH, KW]");
  QAT_CHECK(p.stride >= 1 && p.padding >= 0 && p.dilation >= 1 && p.groups >= 1, "conv2d: invalid stride ",
            p.stride, ", padding ", p.padding, ", dilation ", p.dilation, " or groups ", p.groups,
            " for input ", to_string(x), " and weight ", to_string(w));
  QAT_CHECK(w[0] % p.groups == 0, "conv2d: weight ", to_string(w), " has ", w[0],
            " output channels, not a multiple of groups ", p.groups);
  QAT_CHECK(x[1] == w[1] * p.groups, "conv2d: input ", to_string(x), " has ", x[1], " channels but weight ",
            to_string(w), " expects ", w[1] * p.groups, " (groups ", p.groups, ")");
  QAT_CHECK(output_size(x[2], w[2], p) >= 1 && output_size(x[3], w[3], p) >= 1 &&
                x[2] + 2 * p.padding >= p.dilation * (w[2] - 1) + 1 &&
                x[3] + 2 * p.padding >= p.dilation * (w[3] - 1) + 1,
            "conv2d: kernel of weight ", to_string(w), " (dilation ", p.dilation, ") does not fit input ",
            to_string(x), " padded by ", p.padding);
}

dnnl::reorder reorder_between(const memory::desc& from, const memory::desc& to) {
  if (from == to) return {};
  const auto& eng = Context::get().engine();
  return dnnl::reorder(dnnl::reorder::primitive_desc(eng, from, eng, to));
}

// Everything a convolution primitive descriptor is built from; layouts are left to oneDNN. Tensors the
// primitive reads (src, weights, dst of the backward passes) are in the context's precision, those it
// writes (dst, diff_src, diff_weights) in f32.
struct Problem {
  memory::desc src;
  memory::desc weights;
  memory::desc bias;
  memory::desc dst;
  memory::desc diff_src;
  memory::desc diff_weights;
  memory::desc diff_dst;
  memory::dims strides;
  memory::dims dilates;
  memory::dims padding;
  memory::desc plain_weights;
};

Problem problem(const Shape& x, const Shape& w, bool bias, const Conv2dParams& p) {
  const Shape weight_dims = onednn_weight_dims(w, p.groups), y = conv2d_output_shape(x, w, p);
  const memory::data_type in = input_type(), f32 = memory::data_type::f32;
  return {any_desc(x, in),
          any_desc(weight_dims, in),
          bias ? Tensor::plain_desc({w[0]}, DType::f32) : memory::desc(),
          any_desc(y, f32),
          any_desc(x, f32),
          any_desc(weight_dims, f32),
          any_desc(y, in),
          {p.stride, p.stride},
          {p.dilation - 1, p.dilation - 1},  // oneDNN counts the gaps between taps
          {p.padding, p.padding},
          Tensor::plain_desc(weight_dims, DType::f32)};
}

dnnl::convolution_forward::primitive_desc forward_pd(const Problem& q) {
  return {dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                          dnnl::algorithm::convolution_direct, q.src, q.weights, q.bias,
                                          q.dst, q.strides, q.dilates, q.padding, q.padding),
          Context::get().engine()};
}

CacheKey key(const char* kernel, const Shape& x, const Shape& w, bool bias, const Conv2dParams& p) {
  check_problem(x, w, p);
  CacheKey key(kernel);
  key.add(to_dims(x)).add(to_dims(w)).add(static_cast<int64_t>(bias)).add(p.stride).add(p.padding);
  key.add(p.dilation).add(p.groups).add(static_cast<int64_t>(Context::get().precision()));
  return key;
}

const ForwardEntry& forward_entry(const Shape& x, const Shape& w, bool bias, const Conv2dParams& p) {
  return PrimitiveCache::get().find_or_create<ForwardEntry>(key("conv2d_fwd", x, w, bias, p), [&] {
    const Problem q = problem(x, w, bias, p);
    const auto pd = forward_pd(q);
    return ForwardEntry{pd, dnnl::convolution_forward(pd), q.plain_weights,
                        reorder_between(q.plain_weights, pd.weights_desc())};
  });
}

const DataEntry& data_entry(const Shape& x, const Shape& w, const Conv2dParams& p) {
  return PrimitiveCache::get().find_or_create<DataEntry>(key("conv2d_bwd_data", x, w, false, p), [&] {
    const Problem q = problem(x, w, false, p);
    const dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, q.diff_src, q.weights,
                                              q.diff_dst, q.strides, q.dilates, q.padding, q.padding),
        Context::get().engine(), forward_pd(q));
    return DataEntry{pd, dnnl::convolution_backward_data(pd), q.plain_weights,
                     reorder_between(q.plain_weights, pd.weights_desc())};
  });
}

const WeightsEntry& weights_entry(const Shape& x, const Shape& w, bool bias, const Conv2dParams& p) {
  return PrimitiveCache::get().find_or_create<WeightsEntry>(key("conv2d_bwd_weights", x, w, bias, p), [&] {
    const Problem q = problem(x, w, bias, p);
    const dnnl::convolution_backward_weights::primitive_desc pd(
        dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, q.src, q.diff_weights,
                                                 q.bias, q.diff_dst, q.strides, q.dilates, q.padding,
                                                 q.padding),
        Context::get().engine(), forward_pd(q));
    return WeightsEntry{pd, dnnl::convolution_backward_weights(pd), q.plain_weights,
                        reorder_between(pd.diff_weights_desc(), q.plain_weights)};
  });
}

memory as_memory(const Tensor& t, const memory::desc& layout) {
  return {layout, Context::get().engine(), t.raw()};
}

// The plain weight laid out as `layout`; the reorder is only enqueued, the caller's wait covers it.
Tensor weights_in(const Tensor& w, const memory::desc& plain, const dnnl::reorder& reorder,
                  const memory::desc& layout) {
  QAT_CHECK(w.dtype() == DType::f32, "conv2d: expected an f32 weight, got ", w.str());
  Tensor contiguous = w.contiguous();
  if (layout == plain) return contiguous;
  Tensor out = Tensor::empty_like_desc(layout);
  reorder.execute(Context::get().stream(),
                  {{DNNL_ARG_FROM, as_memory(contiguous, plain)}, {DNNL_ARG_TO, out.memory()}});
  return out;
}

void check_grad(const Tensor& grad_out, const Shape& x, const Shape& w, const Conv2dParams& p) {
  QAT_CHECK(grad_out.shape() == conv2d_output_shape(x, w, p), "conv2d backward: gradient ", grad_out.str(),
            " does not match the output of input ", to_string(x), " and weight ", to_string(w));
}

}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  return {x[0], w[0], output_size(x[2], w[2], p), output_size(x[3], w[3], p)};
}

ConvLayouts conv2d_layouts(const Shape& x, const Shape& w, bool bias, const Conv2dParams& p) {
  const auto& pd = forward_entry(x, w, bias, p).pd;
  return {pd.src_desc(), pd.weights_desc(), pd.dst_desc()};
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                      Tensor* src_used) {
  QAT_CHECK(x.dtype() == DType::f32, "conv2d: expected an f32 input, got ", x.str());
  QAT_CHECK(
      !bias.defined() || (w.ndim() == 4 && bias.dtype() == DType::f32 && bias.shape() == Shape{w.dim(0)}),
      "conv2d: bias ", bias.str(), " does not match weight ", w.str());
  const ForwardEntry& e = forward_entry(x.shape(), w.shape(), bias.defined(), p);
  const Tensor src = x.to_layout(e.pd.src_desc());
  const Tensor weights = weights_in(w, e.plain_weights, e.weights_in, e.pd.weights_desc());
  const Tensor plain_bias = bias.defined() ? bias.contiguous() : Tensor();
  Tensor dst = Tensor::empty_like_desc(e.pd.dst_desc(), conv2d_output_shape(x.shape(), w.shape(), p));
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.memory()},
                                       {DNNL_ARG_WEIGHTS, as_memory(weights, e.pd.weights_desc())},
                                       {DNNL_ARG_DST, dst.memory()}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, plain_bias.memory());
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  stream.wait();
  if (src_used) *src_used = src;
  return dst;
}

Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& w, const Shape& x_shape,
                            const Conv2dParams& p, Tensor* diff_dst_used) {
  const DataEntry& e = data_entry(x_shape, w.shape(), p);
  check_grad(grad_out, x_shape, w.shape(), p);
  const Tensor diff_dst = grad_out.to_layout(e.pd.diff_dst_desc());
  const Tensor weights = weights_in(w, e.plain_weights, e.weights_in, e.pd.weights_desc());
  Tensor diff_src = Tensor::empty_like_desc(e.pd.diff_src_desc(), x_shape);
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst.memory()},
                               {DNNL_ARG_WEIGHTS, as_memory(weights, e.pd.weights_desc())},
                               {DNNL_ARG_DIFF_SRC, diff_src.memory()}});
  stream.wait();
  if (diff_dst_used) *diff_dst_used = diff_dst;
  return diff_src;
}

ConvWeightGrads conv2d_backward_weights(const Tensor& grad_out, const Tensor& x, const Shape& w_shape,
                                        bool bias, const Conv2dParams& p) {
  const WeightsEntry& e = weights_entry(x.shape(), w_shape, bias, p);
  check_grad(grad_out, x.shape(), w_shape, p);
  const Tensor src = x.to_layout(e.pd.src_desc());
  const Tensor diff_dst = grad_out.to_layout(e.pd.diff_dst_desc());
  const memory::desc diff_weights_md = e.pd.diff_weights_desc();
  ConvWeightGrads grads{Tensor::empty(w_shape), bias ? Tensor::empty({w_shape[0]}) : Tensor()};
  const bool reordered = diff_weights_md != e.plain_weights;
  const Tensor diff_weights = reordered ? Tensor::empty_like_desc(diff_weights_md) : grads.weight;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.memory()},
                                       {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                                       {DNNL_ARG_DIFF_WEIGHTS, as_memory(diff_weights, diff_weights_md)}};
  if (bias) args.emplace(DNNL_ARG_DIFF_BIAS, grads.bias.memory());
  auto& stream = Context::get().stream();
  e.primitive.execute(stream, args);
  if (reordered)
    e.diff_weights_out.execute(stream, {{DNNL_ARG_FROM, as_memory(diff_weights, diff_weights_md)},
                                        {DNNL_ARG_TO, as_memory(grads.weight, e.plain_weights)}});
  stream.wait();
  return grads;
}

}  // namespace qat::kernels
