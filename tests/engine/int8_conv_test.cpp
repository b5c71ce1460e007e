// Int8Conv against a reference computed on the same integer grid in double precision: the s32
// accumulation is exact, so f32 outputs agree up to float rounding and requantized u8/s8 outputs agree
// exactly (away from rounding ties); covers stride, padding with a src zero point (padding is real 0),
// groups, the residual sum, ReLU and clipping, s8 inputs, a channel with a zero scale, the zero point folded
// into the bias of unpadded convolutions and depthwise layers.
#include "engine/kernels/int8_conv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/random.h"

namespace qat {
namespace {

using kernels::Conv2dParams;
using kernels::Int8Conv;

struct Problem {
  Shape x;  // [N, C, H, W]
  Shape w;  // [out, C/groups, K, K]
  Conv2dParams p;
  DType src_type = DType::u8;
  int32_t zero_point = 0;
  int weight_max = 7;  // weights in [-weight_max - 1, weight_max]
  int u8_max = 15;     // u8 codes in [0, u8_max]
};

// Random codes in [lo, hi] as a plain NCHW int vector.
std::vector<int> random_codes(int64_t n, int lo, int hi, Generator& gen) {
  std::vector<int> v(n);
  for (int& c : v) c = lo + static_cast<int>(gen.below(hi - lo + 1));
  return v;
}

// acc[n][o][y][x] = Σ (src − zp)·w in double, padding counting as real zero.
std::vector<double> reference_acc(const Problem& q, const std::vector<int>& src, const std::vector<int>& w) {
  const Shape y = kernels::conv2d_output_shape(q.x, q.w, q.p);
  const int64_t channels = q.x[1], height = q.x[2], width = q.x[3], out = q.w[0], cg = q.w[1], k = q.w[2];
  const int64_t per_group = out / q.p.groups;
  std::vector<double> acc(numel(y), 0.0);
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t oy = 0; oy < y[2]; ++oy)
        for (int64_t ox = 0; ox < y[3]; ++ox) {
          double sum = 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t iy = oy * q.p.stride - q.p.padding + ky * q.p.dilation,
                              ix = ox * q.p.stride - q.p.padding + kx * q.p.dilation;
                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                const int64_t c = (o / per_group) * cg + ci;
                sum +=
                    static_cast<double>(src[((n * channels + c) * height + iy) * width + ix] - q.zero_point) *
                    w[((o * cg + ci) * k + ky) * k + kx];
              }
          acc[((n * out + o) * y[2] + oy) * y[3] + ox] = sum;
        }
  return acc;
}

Tensor codes_nhwc(const std::vector<int>& codes, const Shape& shape, DType type) {
  Tensor plain = Tensor::empty(shape, type);
  for (size_t i = 0; i < codes.size(); ++i) {
    if (type == DType::u8)
      plain.data<uint8_t>()[i] = static_cast<uint8_t>(codes[i]);
    else
      plain.data<int8_t>()[i] = static_cast<int8_t>(codes[i]);
  }
  return plain.to_layout(kernels::nhwc_desc(shape, type));
}

Tensor weight_tensor(const std::vector<int>& codes, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::s8);
  for (size_t i = 0; i < codes.size(); ++i) t.data<int8_t>()[i] = static_cast<int8_t>(codes[i]);
  return t;
}

struct Case {
  Problem q;
  std::vector<int> src, w;
  std::vector<float> scale, bias;
  std::vector<double> acc;
};

Case make_case(const Problem& q, uint64_t seed) {
  Generator gen(seed);
  Case c{.q = q, .src = {}, .w = {}, .scale = {}, .bias = {}, .acc = {}};
  const bool u8 = q.src_type == DType::u8;
  c.src = random_codes(numel(q.x), u8 ? 0 : -128, u8 ? q.u8_max : 127, gen);
  c.w = random_codes(numel(q.w), -q.weight_max - 1, q.weight_max, gen);
  for (int64_t o = 0; o < q.w[0]; ++o) {
    c.scale.push_back(gen.uniform(0.001f, 0.02f) * (o % 3 == 2 ? -1.0f : 1.0f));
    c.bias.push_back(gen.uniform(-0.5f, 0.5f));
  }
  c.acc = reference_acc(q, c.src, c.w);
  return c;
}

// The channel of element i of a plain NCHW output.
int64_t channel_of(size_t i, const Shape& y) { return static_cast<int64_t>(i) / (y[2] * y[3]) % y[1]; }

// A zero point folded into the bias (unpadded convolutions) is rounded to f32 with it, at the magnitude of
// zp·Σw (zp + 128 where s8 codes are read as u8): up to two f32 roundings there, in output units.
double folded_bias_rounding(const Case& c, int64_t o) {
  const int64_t inner = static_cast<int64_t>(c.w.size()) / c.q.w[0];
  double magnitude = 0;
  for (int64_t k = 0; k < inner; ++k) magnitude += std::abs(c.w[o * inner + k]);
  magnitude *= std::abs(c.q.zero_point) + (c.q.src_type == DType::s8 ? 128 : 0);
  return 2.0 * std::ldexp(magnitude * std::abs(c.scale[o]), -24);
}

// `folded`: the convolution is unpadded with a zero point, so its tolerance adds folded_bias_rounding.
void expect_float_output(const Problem& q, uint64_t seed, bool folded = false) {
  const Case c = make_case(q, seed);
  const Int8Conv conv(weight_tensor(c.w, q.w), q.p, q.src_type, q.zero_point,
                      {.scale = c.scale, .bias = c.bias, .lo = 0.0f});
  const Tensor y = conv.forward(codes_nhwc(c.src, q.x, q.src_type));
  const Shape ys = conv.output_shape(q.x);
  ASSERT_EQ(y.shape(), ys);
  const std::vector<float> got = y.to_vector();
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t o = channel_of(i, ys);
    const double expected = std::max(0.0, c.scale[o] * c.acc[i] + c.bias[o]);
    const double tolerance =
        1e-5 * std::max(1.0, std::abs(expected)) + (folded ? folded_bias_rounding(c, o) : 0);
    ASSERT_NEAR(got[i], expected, tolerance) << "element " << i;
  }
}

TEST(Int8Conv, FloatOutputMatchesTheIntegerGridReference) {
  expect_float_output({.x = {2, 16, 9, 9}, .w = {32, 16, 3, 3}, .p = {.stride = 1, .padding = 1}}, 1);
  expect_float_output({.x = {2, 16, 9, 9}, .w = {32, 16, 3, 3}, .p = {.stride = 2, .padding = 1}}, 2);
  expect_float_output({.x = {3, 16, 8, 8}, .w = {16, 16, 1, 1}, .p = {.stride = 2}}, 3);
}

TEST(Int8Conv, SourceZeroPointTreatsPaddingAsRealZero) {
  expect_float_output(
      {.x = {2, 16, 7, 7}, .w = {16, 16, 3, 3}, .p = {.stride = 1, .padding = 1}, .zero_point = 5}, 4);
}

TEST(Int8Conv, SignedInputsAndGroups) {
  expect_float_output({.x = {2, 16, 7, 7}, .w = {16, 16, 3, 3}, .p = {.padding = 1}, .src_type = DType::s8},
                      5);
  expect_float_output({.x = {2, 32, 7, 7}, .w = {32, 1, 3, 3}, .p = {.padding = 1, .groups = 32}}, 6);
}

// 8-bit codes by 8-bit weights: products up to 128·255, whose adjacent pairs overflow int16 in oneDNN's
// kernels for CPUs without VNNI (ctest also runs this suite with ONEDNN_MAX_CPU_ISA=AVX2).
TEST(Int8Conv, EightBitCodesByEightBitWeightsAccumulateExactly) {
  const Problem dense{
      .x = {2, 16, 7, 7}, .w = {16, 16, 3, 3}, .p = {.padding = 1}, .weight_max = 127, .u8_max = 255};
  expect_float_output(dense, 11);
  Problem signed_input = dense;
  signed_input.src_type = DType::s8;
  expect_float_output(signed_input, 12);
  Problem zero_point = dense;
  zero_point.zero_point = 3;
  expect_float_output(zero_point, 13);
  Problem grouped = dense;
  grouped.w = {16, 4, 3, 3};
  grouped.p.groups = 4;
  expect_float_output(grouped, 14);
  Problem depthwise = dense;
  depthwise.w = {16, 1, 3, 3};
  depthwise.p.groups = 16;
  expect_float_output(depthwise, 15);
}

// u8 outputs clipped to [lo, hi] equal the rounded reference exactly, away from rounding ties.
void expect_requantized_output(const Problem& q, uint64_t seed, float lo, float hi) {
  const Case c = make_case(q, seed);
  const Int8Conv conv(weight_tensor(c.w, q.w), q.p, q.src_type, q.zero_point,
                      {.scale = c.scale, .bias = c.bias, .lo = lo, .hi = hi, .dst_type = DType::u8});
  const Tensor y = conv.forward(codes_nhwc(c.src, q.x, q.src_type));
  ASSERT_EQ(y.dtype(), DType::u8);
  const std::vector<float> got = y.to_vector();
  const Shape ys = conv.output_shape(q.x);
  int ties = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t o = channel_of(i, ys);
    const double v = std::clamp(c.scale[o] * c.acc[i] + c.bias[o], double{lo}, double{hi});
    if (std::abs(v - std::floor(v) - 0.5) < 1e-4) {
      ++ties;  // float rounding may go either way at a tie
      continue;
    }
    ASSERT_EQ(got[i], std::nearbyint(v)) << "element " << i;
  }
  EXPECT_LT(ties, 10);
}

TEST(Int8Conv, RequantizedOutputIsTheRoundedClippedValue) {
  // e.g. ReLU on a 4-bit grid with zero point 2
  expect_requantized_output({.x = {2, 16, 8, 8}, .w = {16, 16, 3, 3}, .p = {.padding = 1}}, 7, 2.0f, 13.0f);
}

// Without padding the source zero point moves into the bias (−zp·Σw): 1x1 and unpadded 3x3 convolutions of
// u8 codes with a zero point, of s8 codes (read as u8 with zero point 128 on CPUs without VNNI), with 8-bit
// weights (split in two there) and grouped.
TEST(Int8Conv, UnpaddedConvolutionsWithASourceZeroPointMatchTheReference) {
  const Problem pointwise{.x = {2, 48, 6, 6}, .w = {24, 48, 1, 1}, .p = {}, .zero_point = 9};
  expect_float_output(pointwise, 21, true);
  expect_requantized_output(pointwise, 22, 0.0f, 15.0f);
  Problem signed_input = pointwise;
  signed_input.src_type = DType::s8;
  signed_input.zero_point = -3;
  expect_float_output(signed_input, 23, true);
  expect_requantized_output(signed_input, 24, 0.0f, 255.0f);
  Problem eight_bit = signed_input;
  eight_bit.weight_max = 127;
  expect_float_output(eight_bit, 25, true);
  Problem strided = pointwise;
  strided.w = {16, 16, 3, 3};
  strided.x = {2, 16, 9, 9};
  strided.p = {.stride = 2};
  strided.u8_max = 255;
  expect_float_output(strided, 26, true);
  Problem grouped = strided;
  grouped.w = {16, 4, 3, 3};
  grouped.p.groups = 4;
  grouped.weight_max = 127;
  expect_float_output(grouped, 27, true);
}

// Depthwise layers as MobileNetV2 has them (low-bit weights): padding with a zero point, s8 codes, stride 2,
// dilation, channel counts off oneDNN's 8- and 16-channel blocks.
TEST(Int8Conv, LowBitDepthwiseConvolutionsMatchTheReference) {
  const Problem dw{.x = {2, 24, 9, 9},
                   .w = {24, 1, 3, 3},
                   .p = {.padding = 1, .groups = 24},
                   .zero_point = 7,
                   .u8_max = 255};
  expect_float_output(dw, 31);
  expect_requantized_output(dw, 32, 0.0f, 15.0f);
  Problem signed_input = dw;
  signed_input.src_type = DType::s8;
  signed_input.zero_point = -5;
  signed_input.p.stride = 2;
  expect_float_output(signed_input, 33);
  expect_requantized_output(signed_input, 34, 1.0f, 200.0f);
  Problem narrow{.x = {3, 8, 6, 6}, .w = {8, 1, 5, 5}, .p = {.padding = 2, .dilation = 1, .groups = 8}};
  expect_float_output(narrow, 35);
  narrow.p = {.padding = 2, .dilation = 2, .groups = 8};
  expect_float_output(narrow, 36);
  Problem wide{.x = {1, 48, 4, 4}, .w = {48, 1, 3, 3}, .p = {.stride = 2, .padding = 1, .groups = 48}};
  expect_requantized_output(wide, 37, 0.0f, 15.0f);
}

TEST(Int8Conv, AccumulatesOntoTheResidualBeforeTheReluAndZeroScaleChannelsGiveTheirBias) {
  const Problem q{.x = {2, 16, 6, 6}, .w = {16, 16, 3, 3}, .p = {.padding = 1}};
  Case c = make_case(q, 8);
  c.scale[3] = 0.0f;
  const Int8Conv conv(weight_tensor(c.w, q.w), q.p, q.src_type, 0,
                      {.scale = c.scale, .bias = c.bias, .accumulate = true, .lo = 0.0f});
  const Shape ys = conv.output_shape(q.x);
  const Tensor residual = Generator(9).normal_tensor(ys);
  const Tensor dst = residual.to_layout(kernels::nhwc_desc(ys, DType::f32));
  const std::vector<float> before = residual.to_vector();
  conv.forward_into(codes_nhwc(c.src, q.x, q.src_type), dst);
  const std::vector<float> got = dst.to_vector();
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t o = channel_of(i, ys);
    const double expected = std::max(0.0, c.scale[o] * c.acc[i] + c.bias[o] + before[i]);
    ASSERT_NEAR(got[i], expected, 1e-5 * std::max(1.0, std::abs(expected))) << "element " << i;
  }
}

}  // namespace
}  // namespace qat
