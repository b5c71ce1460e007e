#include "engine/kernels/int8_conv.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {
namespace {

using dnnl::memory;

struct Entry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  bool picked_layouts = false;  // src and dst in the layouts its kernel chose, not the caller's NHWC
};

// The weights in the primitive's layout.
Tensor reorder_weights(const Tensor& plain_weights, const Shape& dims, const memory::desc& layout) {
  const memory::desc plain = Tensor::plain_desc(dims, plain_weights.dtype());
  Tensor out = Tensor::empty_like_desc(layout);
  const auto& eng = Context::get().engine();
  memory from(plain, eng, plain_weights.raw());
  dnnl::reorder(dnnl::reorder::primitive_desc(eng, plain, eng, layout))
      .execute(Context::get().stream(), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, out.memory()}});
  Context::get().stream().wait();
  return out;
}

memory::dims to_dims(const Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

memory::desc any_layout(const memory::desc& md) {
  return {md.dims(), md.data_type(), memory::format_tag::any};
}

bool is_reference(const dnnl::convolution_forward::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

// oneDNN wants grouped weights as {g, out/g, in/g, kh, kw}; the plain bytes are the same.
Shape grouped_dims(const Shape& w, int64_t groups) {
  if (groups == 1) return w;
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

dnnl::primitive_attr attributes(const Int8Epilogue& e, DType src_type, int32_t src_zero_point) {
  dnnl::primitive_attr attr;
  // The f32 form has its scales in the weights (f32 convolutions take no output scales).
  if (src_type != DType::f32) attr.set_output_scales(1 << 1, e.scale);
  // A src zero point makes oneDNN pick a slower kernel; it treats padding as the zero point (real 0).
  if (src_zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {src_zero_point});
  dnnl::post_ops ops;
  if (e.accumulate) ops.append_sum(1.0f);
  const float lowest = -std::numeric_limits<float>::max(), highest = std::numeric_limits<float>::max();
  if (e.lo == 0.0f && e.hi == highest)
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  else if (e.lo != lowest || e.hi != highest)
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, e.lo, e.hi);
  attr.set_post_ops(ops);
  return attr;
}

// oneDNN's int8 kernels on CPUs without VNNI (AVX2, AVX-512 before Cascade Lake) multiply u8 by s8 with
// vpmaddubsw, which adds each pair of adjacent products in int16 with saturation, and read s8 sources by
// scaling the weights by 0.5 (rounding them) — see oneDNN's "Nuances of int8 Computations". Both break
// the exact s32 accumulation, so such CPUs get u8 sources and weights small enough for the pairs.
bool int8_pair_sums_saturate() {
  // cpu_isa values are bit sets: an ISA includes another when it has all of its bits.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto has = [isa](dnnl::cpu_isa feature) {
    const auto bits = static_cast<unsigned>(feature);
    return (isa & bits) == bits;
  };
  return !has(dnnl::cpu_isa::avx512_core_vnni) && !has(dnnl::cpu_isa::avx2_vnni);
}

// Two adjacent products of a u8 code (≤ 255) and a weight of magnitude ≤ 64 stay within int16.
constexpr int kSafeWeightMagnitude = 64;

bool weights_exceed_pair_range(const Tensor& weight) {
  const int8_t* w = weight.data<int8_t>();
  return std::any_of(w, w + weight.numel(), [](int8_t v) { return std::abs(int{v}) > kSafeWeightMagnitude; });
}

// w = hi + lo with |hi|, |lo| ≤ 64, laid out per group as [hi channels, lo channels]: the convolution of
// the input with each group's channels repeated ([x_g, x_g]) then accumulates exactly Σ x·w.
Tensor split_weight(const Tensor& weight) {
  const int64_t out = weight.dim(0), cg = weight.dim(1), taps = weight.dim(2) * weight.dim(3);
  Tensor split = Tensor::empty({out, 2 * cg, weight.dim(2), weight.dim(3)}, DType::s8);
  const int8_t* w = weight.data<int8_t>();
  int8_t* s = split.data<int8_t>();
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < cg * taps; ++i) {
      const int v = w[o * cg * taps + i], lo = v / 2;
      s[(o * 2 * cg * taps) + i] = static_cast<int8_t>(v - lo);
      s[(o * 2 * cg * taps) + cg * taps + i] = static_cast<int8_t>(lo);
    }
  return split;
}

}  // namespace

memory::desc nhwc_desc(const Shape& shape, DType dtype) {
  return {to_dims(shape), to_dnnl(dtype), memory::format_tag::nhwc};
}

// oneDNN adds the bias before the output scale (dst = scale·(acc + bias)), so the bias is stored in
// accumulator units, bias/scale. A channel whose scale is 0 outputs its bias alone: its weights are zeroed
// and its scale set to 1, which gives exactly that.
Int8Conv::Int8Conv(const Tensor& weight, const Conv2dParams& params, DType src_type, int32_t src_zero_point,
                   Int8Epilogue epilogue)
    : weight_(weight.contiguous().clone()),
      params_(params),
      src_type_(src_type),
      src_zero_point_(src_zero_point),
      epilogue_(std::move(epilogue)) {
  const int64_t out = weight_.ndim() == 4 ? weight_.dim(0) : 0;
  const bool real = src_type == DType::f32;
  QAT_CHECK(out > 0 && weight_.dtype() == (real ? DType::f32 : DType::s8), "int8 conv: weight ", weight.str(),
            " must be ", real ? "f32" : "s8", " [out, in/groups, KH, KW]");
  QAT_CHECK(src_type == DType::u8 || src_type == DType::s8 || (real && src_zero_point == 0),
            "int8 conv: src type ", to_string(src_type), " (zero point ", src_zero_point,
            ") is not u8, s8 or f32");
  QAT_CHECK(static_cast<int64_t>(epilogue_.scale.size()) == out &&
                (epilogue_.bias.empty() || static_cast<int64_t>(epilogue_.bias.size()) == out),
            "int8 conv: ", epilogue_.scale.size(), " scales and ", epilogue_.bias.size(), " biases for ", out,
            " output channels");
  QAT_CHECK(epilogue_.dst_type != DType::bf16 && epilogue_.dst_type != DType::s32 &&
                (!epilogue_.accumulate || epilogue_.dst_type == DType::f32),
            "int8 conv: dst type ", to_string(epilogue_.dst_type),
            (epilogue_.accumulate ? " with accumulate" : ""), " is not supported");
  const int64_t inner = weight_.numel() / out;
  if (real) {
    float* w = weight_.data<float>();
    for (int64_t i = 0; i < weight_.numel(); ++i) w[i] *= epilogue_.scale[i / inner];
  } else {
    int8_t* w = weight_.data<int8_t>();
    for (int64_t c = 0; c < out; ++c)
      if (epilogue_.scale[c] == 0.0f) {
        std::fill(w + c * inner, w + (c + 1) * inner, int8_t{0});
        epilogue_.scale[c] = 1.0f;
      } else if (!epilogue_.bias.empty()) {
        epilogue_.bias[c] /= epilogue_.scale[c];
      }
  }
  primitive_weight_ = weight_;
  if (!real && int8_pair_sums_saturate()) {
    shift_signed_src_ = src_type_ == DType::s8;
    split_weight_ = weight_.dim(1) > 1 && weights_exceed_pair_range(weight_);
    if (split_weight_) primitive_weight_ = split_weight(weight_);
  }
  if (params_.padding == 0 && source_zero_point() != 0) fold_zero_point_into_bias();
  if (!epilogue_.bias.empty()) bias_ = Tensor::from_vector({out}, epilogue_.bias);
}

// Without padding every tap reads a real code, so Σ (x − zp)·w = Σ x·w − zp·Σw: the primitive runs without
// a zero point (oneDNN's zero-point kernel costs MobileNetV2's expansion 1x1s 10–20% more CPU time on AVX2)
// and −zp·Σw joins the f32 bias. The accumulator stays exact; the bias is rounded at the magnitude of zp·Σw
// instead of its own, so a requantized code can differ from the zero-point kernel's only within ~1e-5 of a
// rounding tie (tests/engine/int8_conv_test.cpp bounds it).
void Int8Conv::fold_zero_point_into_bias() {
  const int64_t out = primitive_weight_.dim(0), inner = primitive_weight_.numel() / out;
  const int8_t* w = primitive_weight_.data<int8_t>();
  if (epilogue_.bias.empty()) epilogue_.bias.assign(out, 0.0f);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t sum = std::accumulate(w + o * inner, w + (o + 1) * inner, int64_t{0});
    epilogue_.bias[o] =
        static_cast<float>(double{epilogue_.bias[o]} - static_cast<double>(source_zero_point()) * sum);
  }
  zero_point_in_bias_ = true;
}

Shape Int8Conv::output_shape(const Shape& src) const {
  return conv2d_output_shape(src, weight_.shape(), params_);
}

Tensor Int8Conv::forward(const Tensor& src) const {
  QAT_CHECK(!epilogue_.accumulate, "int8 conv: an accumulating convolution needs forward_into");
  const Shape shape = output_shape(src.shape());
  Tensor dst = Tensor::empty_like_desc(nhwc_desc(shape, epilogue_.dst_type), shape);
  forward_into(src, dst);
  return dst;
}

struct Int8Conv::Plan {
  dnnl::convolution_forward primitive;
  Tensor weights;  // in the primitive's layout
  // When its kernel picked the layouts: the source's reorder into them, and the output's back to NHWC.
  std::optional<dnnl::reorder> to_src, from_dst;
  memory::desc src, dst;
};

// Built through the primitive cache (so creations are counted and shared between equal layers).
Int8Conv::Plan Int8Conv::make_plan(const memory::desc& src_md, const memory::desc& dst_md) const {
  CacheKey key("int8_conv");
  key.add(src_md)
      .add(to_dims(primitive_weight_.shape()))
      .add(params_.stride)
      .add(params_.padding)
      .add(params_.dilation);
  key.add(params_.groups)
      .add(int64_t{primitive_zero_point()})
      .add(dst_md)
      .add(static_cast<int64_t>(bias_.defined()));
  key.add(static_cast<int64_t>(epilogue_.accumulate)).add(epilogue_.lo).add(epilogue_.hi);
  for (float s : epilogue_.scale) key.add(s);
  const Shape wdims = grouped_dims(primitive_weight_.shape(), params_.groups);
  const Entry& e = PrimitiveCache::get().find_or_create<Entry>(key, [&] {
    const auto make_pd = [&](const memory::desc& src, const memory::desc& dst) {
      const memory::desc weights_any(to_dims(wdims), to_dnnl(weight_.dtype()), memory::format_tag::any);
      const memory::desc bias_md = bias_.defined() ? bias_.desc() : memory::desc();
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights_any, bias_md,
          dst, {params_.stride, params_.stride}, {params_.dilation - 1, params_.dilation - 1},
          {params_.padding, params_.padding}, {params_.padding, params_.padding});
      return dnnl::convolution_forward::primitive_desc(
          desc, attributes(epilogue_, shift_signed_src_ ? DType::u8 : src_type_, primitive_zero_point()),
          Context::get().engine());
    };
    const dnnl::convolution_forward::primitive_desc pd = make_pd(src_md, dst_md);
    // oneDNN 2.6's AVX2 kernels refuse NHWC tensors with one channel (the image) or a 1×1 image (the
    // classifier): oneDNN sees their strides as NCHW and falls to its reference kernels, 10–100× slower.
    // Such a convolution runs in the layouts a jit kernel picks, with reorders around it.
    if (is_reference(pd) && !epilogue_.accumulate) {
      const auto picked = make_pd(any_layout(src_md), any_layout(dst_md));
      if (!is_reference(picked)) return Entry{picked, dnnl::convolution_forward(picked), true};
    }
    return Entry{pd, dnnl::convolution_forward(pd)};
  });
  Plan plan{e.primitive, reorder_weights(primitive_weight_, wdims, e.pd.weights_desc()), {}, {}, src_md,
            dst_md};
  if (e.picked_layouts) {
    const auto& eng = Context::get().engine();
    plan.src = e.pd.src_desc();
    plan.dst = e.pd.dst_desc();
    plan.to_src = dnnl::reorder(dnnl::reorder::primitive_desc(eng, src_md, eng, plan.src));
    plan.from_dst = dnnl::reorder(dnnl::reorder::primitive_desc(eng, plan.dst, eng, dst_md));
  }
  return plan;
}

const Int8Conv::Plan& Int8Conv::plan_for(const memory::desc& src_md, const memory::desc& dst_md) const {
  const memory::dims dims = src_md.dims();
  const Shape shape(dims.begin(), dims.end());
  for (const auto& [known, plan] : plans_)
    if (known == shape) return *plan;
  return *plans_.emplace_back(shape, std::make_shared<const Plan>(make_plan(src_md, dst_md))).second;
}

// s8 codes become u8 by flipping the sign bit (s + 128), and the zero point moves with them; a split
// weight reads each group's channels twice.
Tensor Int8Conv::primitive_source(const Tensor& src) const {
  if (!shift_signed_src_ && !split_weight_) return src;
  const Shape& x = src.shape();
  const int64_t groups = params_.groups, cg = x[1] / groups, copies = split_weight_ ? 2 : 1;
  const Shape shape{x[0], x[1] * copies, x[2], x[3]};
  Tensor out = Tensor::empty_like_desc(nhwc_desc(shape, DType::u8), shape);
  const auto* from = static_cast<const uint8_t*>(src.raw());
  auto* to = static_cast<uint8_t*>(out.raw());
  const uint8_t flip = shift_signed_src_ ? 0x80 : 0;
  const int64_t pixels = x[0] * x[2] * x[3];
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t copy = 0; copy < copies; ++copy) {
        const uint8_t* in = from + (p * x[1]) + (g * cg);
        uint8_t* dst = to + (p * shape[1]) + ((g * copies + copy) * cg);
        for (int64_t c = 0; c < cg; ++c) dst[c] = in[c] ^ flip;
      }
  return out;
}

void Int8Conv::forward_into(const Tensor& src, const Tensor& dst) const {
  const Shape& x = src.shape();
  QAT_CHECK(src.dtype() == src_type_ && x.size() == 4 && x[1] == weight_.dim(1) * params_.groups,
            "int8 conv: input ", src.str(), " does not match weight ", weight_.str(), " (groups ",
            params_.groups, ", src type ", to_string(src_type_), ")");
  const Shape y = output_shape(x);
  const memory::desc dst_md = nhwc_desc(y, epilogue_.dst_type);
  QAT_CHECK(src.desc() == nhwc_desc(x, src_type_) && dst.desc() == dst_md, "int8 conv: input ", src.str(),
            " and output ", dst.str(), " must be NHWC");
  const Tensor given = primitive_source(src);
  const Plan& plan = plan_for(given.desc(), dst_md);
  auto& stream = Context::get().stream();
  Tensor source = given, out = dst;
  if (plan.to_src) {
    source = Tensor::empty_like_desc(plan.src, given.shape());
    out = Tensor::empty_like_desc(plan.dst, y);
    plan.to_src->execute(stream, {{DNNL_ARG_FROM, given.memory()}, {DNNL_ARG_TO, source.memory()}});
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, source.memory()},
                                       {DNNL_ARG_WEIGHTS, plan.weights.memory()},
                                       {DNNL_ARG_DST, out.memory()}};
  if (bias_.defined()) args.emplace(DNNL_ARG_BIAS, bias_.memory());
  plan.primitive.execute(stream, args);
  if (plan.from_dst)
    plan.from_dst->execute(stream, {{DNNL_ARG_FROM, out.memory()}, {DNNL_ARG_TO, dst.memory()}});
  stream.wait();
}

}  // namespace qat::kernels
