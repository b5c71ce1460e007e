#include "engine/kernels/int8_depthwise.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/error.h"
#include "engine/kernels/int8_conv.h"

namespace qat::kernels {
namespace {

// 16 channels at a time in GCC/Clang vector types: AVX2 lanes with -march=native, SSE2 pairs without.
constexpr int64_t kLanes = 16;
using I16x16 = int16_t __attribute__((vector_size(32)));
using U8x16 = uint8_t __attribute__((vector_size(16)));
using S8x16 = int8_t __attribute__((vector_size(16)));

// Largest |code − zero point| of a source type.
int32_t largest_offset(DType src_type, int32_t zero_point) {
  const int32_t lo = src_type == DType::u8 ? 0 : -128, hi = src_type == DType::u8 ? 255 : 127;
  return std::max(std::abs(lo - zero_point), std::abs(hi - zero_point));
}

template <typename Src>
I16x16 widen(const Src* p) {
  if constexpr (std::is_same_v<Src, uint8_t>) {
    U8x16 v;
    std::memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, I16x16);
  } else {
    S8x16 v;
    std::memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, I16x16);
  }
}

template <typename Dst>
void store(Dst* out, const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<Dst, float>)
      out[i] = v[i];
    else  // saturated to the type, then rounded half to even as oneDNN's conversion does
      out[i] = static_cast<Dst>(std::nearbyint(
          std::clamp(v[i], float{std::numeric_limits<Dst>::min()}, float{std::numeric_limits<Dst>::max()})));
  }
}

}  // namespace

bool Int8Depthwise::accumulates_exactly(const Tensor& weight, DType src_type, int32_t src_zero_point) {
  if (weight.ndim() != 4 || weight.dim(1) != 1 || weight.dtype() != DType::s8 ||
      (src_type != DType::u8 && src_type != DType::s8))
    return false;
  const int64_t taps = weight.dim(2) * weight.dim(3);
  const int8_t* w = weight.data<int8_t>();
  const int64_t offset = largest_offset(src_type, src_zero_point);
  for (int64_t c = 0; c < weight.dim(0); ++c) {
    int64_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) sum += std::abs(int{w[c * taps + t]});
    if (sum * offset > std::numeric_limits<int16_t>::max()) return false;
  }
  return true;
}

Int8Depthwise::Int8Depthwise(const Tensor& weight, const Conv2dParams& params, DType src_type,
                             int32_t src_zero_point, const Int8Epilogue& epilogue)
    : channels_(weight.dim(0)),
      padded_channels_((weight.dim(0) + kLanes - 1) / kLanes * kLanes),
      kernel_h_(weight.dim(2)),
      kernel_w_(weight.dim(3)),
      params_(params),
      src_type_(src_type),
      zero_point_(static_cast<int16_t>(src_zero_point)),
      lo_(epilogue.lo),
      hi_(epilogue.hi),
      dst_type_(epilogue.dst_type) {
  QAT_CHECK(accumulates_exactly(weight, src_type, src_zero_point) && !epilogue.accumulate &&
                params.groups == channels_,
            "int8 depthwise: weight ", weight.str(), " (groups ", params.groups,
            ") is not a depthwise convolution whose int16 sums stay exact");
  const int64_t taps = kernel_h_ * kernel_w_;
  taps_.assign(taps * padded_channels_, 0);
  const int8_t* w = weight.data<int8_t>();
  for (int64_t c = 0; c < channels_; ++c)
    for (int64_t t = 0; t < taps; ++t) taps_[t * padded_channels_ + c] = w[c * taps + t];
  scale_ = epilogue.scale;
  bias_ = epilogue.bias.empty() ? std::vector<float>(channels_, 0.0f) : epilogue.bias;
  scale_.resize(padded_channels_, 0.0f);
  bias_.resize(padded_channels_, 0.0f);
}

// One output row per task; per pixel and 16 channels the sum over the taps inside the image stays in one
// register. Channels beyond a multiple of 16 read and write through a zero-filled block.
template <typename Src, typename Dst>
void Int8Depthwise::run(const Src* src, Dst* dst, const Shape& x, const Shape& y) const {
  const int64_t height = x[2], width = x[3], out_h = y[2], out_w = y[3], c = channels_;
  const int64_t stride = params_.stride, pad = params_.padding, dilation = params_.dilation;
  const I16x16 zero_point = I16x16{} + zero_point_;
#pragma omp parallel for if (y[0] * out_h > 1)
  for (int64_t row = 0; row < y[0] * out_h; ++row) {
    const int64_t n = row / out_h, oy = row % out_h;
    Src tail_in[kLanes];
    alignas(32) float v[kLanes];
    for (int64_t ox = 0; ox < out_w; ++ox)
      for (int64_t cb = 0; cb < c; cb += kLanes) {
        const int64_t lanes = std::min(kLanes, c - cb);
        I16x16 acc{};
        for (int64_t ky = 0; ky < kernel_h_; ++ky) {
          const int64_t iy = oy * stride - pad + ky * dilation;
          if (iy < 0 || iy >= height) continue;
          for (int64_t kx = 0; kx < kernel_w_; ++kx) {
            const int64_t ix = ox * stride - pad + kx * dilation;
            if (ix < 0 || ix >= width) continue;
            const Src* in = src + ((n * height + iy) * width + ix) * c + cb;
            if (lanes < kLanes) {
              std::fill(tail_in, tail_in + kLanes, Src{0});
              std::copy(in, in + lanes, tail_in);
              in = tail_in;
            }
            I16x16 w;
            std::memcpy(&w, &taps_[(ky * kernel_w_ + kx) * padded_channels_ + cb], sizeof w);
            acc += (widen(in) - zero_point) * w;
          }
        }
        for (int64_t i = 0; i < kLanes; ++i)
          v[i] = std::clamp(scale_[cb + i] * (static_cast<float>(acc[i]) + bias_[cb + i]), lo_, hi_);
        store(dst + ((n * out_h + oy) * out_w + ox) * c + cb, v, lanes);
      }
  }
}

void Int8Depthwise::forward_into(const Tensor& src, const Tensor& dst) const {
  const Shape& x = src.shape();
  const Shape y = dst.shape();
  QAT_CHECK(src.dtype() == src_type_ && x.size() == 4 && x[1] == channels_ && dst.dtype() == dst_type_ &&
                src.desc() == nhwc_desc(x, src_type_) && dst.desc() == nhwc_desc(y, dst_type_),
            "int8 depthwise: input ", src.str(), " and output ", dst.str(), " must be NHWC with ", channels_,
            " channels");
  const auto dispatch = [&](const auto* in) {
    switch (dst_type_) {
      case DType::u8:
        return run(in, static_cast<uint8_t*>(dst.raw()), x, y);
      case DType::s8:
        return run(in, static_cast<int8_t*>(dst.raw()), x, y);
      default:
        return run(in, static_cast<float*>(dst.raw()), x, y);
    }
  };
  if (src_type_ == DType::u8)
    dispatch(static_cast<const uint8_t*>(src.raw()));
  else
    dispatch(static_cast<const int8_t*>(src.raw()));
}

}  // namespace qat::kernels
