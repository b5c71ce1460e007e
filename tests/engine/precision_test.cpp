// bf16 precision of the convolution and matmul kernels: each pass (forward, backward-data,
// backward-weights, matmul) equals the f32 pass on bf16-rounded inputs up to f32 accumulation order
// (1e-4 of the largest value), differs from the f32 pass on the unrounded inputs by no more than bf16
// rounding allows (2^-6 of the largest value: 8 significant bits per operand), returns f32; a repeated
// bf16 step builds no primitive, and the precision is part of the cache key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/kernels/conv.h"
#include "engine/kernels/matmul.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"

namespace qat {
namespace {

using kernels::Conv2dParams;

Tensor bf16_rounded(const Tensor& t) { return t.to(DType::bf16).to(DType::f32); }

// Largest |expected| (at least 1e-6) and largest |actual − expected|.
struct Gap {
  double scale = 1e-6;
  double max_error = 0;
};

Gap gap(const Tensor& actual, const Tensor& expected) {
  EXPECT_EQ(actual.dtype(), DType::f32);
  EXPECT_EQ(actual.shape(), expected.shape());
  const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  Gap g;
  for (size_t i = 0; i < e.size(); ++i) {
    g.scale = std::max(g.scale, std::abs(static_cast<double>(e[i])));
    g.max_error = std::max(g.max_error, std::abs(static_cast<double>(a[i]) - e[i]));
  }
  return g;
}

// bf16 result against the f32 computation on rounded inputs (tight) and on the original ones (bf16
// tolerance).
void expect_bf16(const Tensor& bf16, const Tensor& f32_of_rounded, const Tensor& f32,
                 const std::string& what) {
  const Gap same = gap(bf16, f32_of_rounded), rounding = gap(bf16, f32);
  EXPECT_LE(same.max_error, 1e-4 * same.scale) << what << " vs f32 on bf16-rounded inputs";
  EXPECT_LE(rounding.max_error, std::ldexp(1.0, -6) * rounding.scale) << what << " vs f32";
  EXPECT_GT(rounding.max_error, 0.0) << what << ": identical to f32, so bf16 was not used";
}

class Bf16Precision : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Context::bf16_supported()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  }
};

struct ConvCase {
  Shape x, w;
  Conv2dParams p;
};

TEST_F(Bf16Precision, ConvolutionPassesMatchF32OnRoundedInputs) {
  for (const ConvCase& c : {ConvCase{{4, 16, 10, 10}, {32, 16, 3, 3}, {.padding = 1}},
                            ConvCase{{2, 32, 9, 9}, {64, 32, 3, 3}, {.stride = 2, .padding = 1}},
                            ConvCase{{2, 32, 8, 8}, {32, 1, 3, 3}, {.padding = 1, .groups = 32}}}) {
    Generator gen(7);
    const Tensor x = gen.normal_tensor(c.x), w = gen.normal_tensor(c.w), b = gen.normal_tensor({c.w[0]});
    const Tensor g = gen.normal_tensor(kernels::conv2d_output_shape(c.x, c.w, c.p));
    Tensor y, dx;
    kernels::ConvWeightGrads dw;
    {
      PrecisionScope bf16(Precision::bf16);
      y = kernels::conv2d_forward(x, w, b, c.p);
      dx = kernels::conv2d_backward_data(g, w, c.x, c.p);
      dw = kernels::conv2d_backward_weights(g, x, c.w, true, c.p);
    }
    const std::string name = "conv " + to_string(c.x) + " * " + to_string(c.w);
    const Tensor xr = bf16_rounded(x), wr = bf16_rounded(w), gr = bf16_rounded(g);
    expect_bf16(y, kernels::conv2d_forward(xr, wr, b, c.p), kernels::conv2d_forward(x, w, b, c.p),
                name + " forward");
    expect_bf16(dx, kernels::conv2d_backward_data(gr, wr, c.x, c.p),
                kernels::conv2d_backward_data(g, w, c.x, c.p), name + " backward data");
    const kernels::ConvWeightGrads rounded = kernels::conv2d_backward_weights(gr, xr, c.w, true, c.p),
                                   exact = kernels::conv2d_backward_weights(g, x, c.w, true, c.p);
    expect_bf16(dw.weight, rounded.weight, exact.weight, name + " weight gradient");
    expect_bf16(dw.bias, rounded.bias, exact.bias, name + " bias gradient");
  }
}

TEST_F(Bf16Precision, MatmulMatchesF32OnRoundedInputs) {
  Generator gen(11);
  const Tensor a = gen.normal_tensor({3, 40, 64}), b = gen.normal_tensor({48, 64}),
               bias = gen.normal_tensor({48});
  const Tensor at = gen.normal_tensor({3, 40, 24});
  Tensor y, yt;
  {
    PrecisionScope bf16(Precision::bf16);
    y = kernels::matmul(a, b, false, true, bias);
    yt = kernels::matmul(at, a, true, false);
  }
  const Tensor ar = bf16_rounded(a), br = bf16_rounded(b), atr = bf16_rounded(at);
  expect_bf16(y, kernels::matmul(ar, br, false, true, bias), kernels::matmul(a, b, false, true, bias),
              "a·bᵀ + bias");
  expect_bf16(yt, kernels::matmul(atr, ar, true, false), kernels::matmul(at, a, true, false), "aᵀ·a");
}

TEST_F(Bf16Precision, RepeatedStepCreatesNoPrimitivesAndPrecisionIsInTheKey) {
  Generator gen(13);
  const Shape xs{4, 16, 12, 12}, ws{16, 16, 3, 3};
  const Tensor x = gen.normal_tensor(xs), w = gen.normal_tensor(ws), m = gen.normal_tensor({16, 16});
  const Conv2dParams p{.padding = 1};
  const Tensor g = gen.normal_tensor(kernels::conv2d_output_shape(xs, ws, p));
  auto step = [&] {
    const Tensor y = kernels::conv2d_forward(x, w, Tensor(), p);
    kernels::conv2d_backward_data(g, w, xs, p);
    kernels::conv2d_backward_weights(g, x, ws, false, p);
    kernels::matmul(m, m, false, true);
    return y;
  };
  const Tensor f32 = step();
  PrecisionScope bf16(Precision::bf16);
  const int64_t before = PrimitiveCache::get().created();
  const Tensor first = step();
  EXPECT_GT(PrimitiveCache::get().created(), before) << "bf16 reused the f32 primitives";
  const int64_t warm = PrimitiveCache::get().created();
  const Tensor second = step();
  EXPECT_EQ(PrimitiveCache::get().created(), warm);
  EXPECT_EQ(first.to_vector(), second.to_vector());
  EXPECT_NE(first.to_vector(), f32.to_vector());
}

TEST(Precision, ScopeRestoresThePreviousPrecision) {
  ASSERT_EQ(Context::get().precision(), Precision::f32);
  if (Context::bf16_supported()) {
    {
      PrecisionScope bf16(Precision::bf16);
      EXPECT_EQ(Context::get().precision(), Precision::bf16);
    }
  } else {
    EXPECT_THROW(Context::get().set_precision(Precision::bf16), Error);
  }
  EXPECT_EQ(Context::get().precision(), Precision::f32);
}

}  // namespace
}  // namespace qat
