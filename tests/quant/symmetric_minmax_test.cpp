// Symmetric min-max: zero point 0, Δ = max|x|/((2^b − 1)/2) on signed codes (PyTorch's symmetric
// MinMaxObserver), Δ = max/(2^b − 1) on unsigned codes for non-negative inputs, per channel too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/random.h"
#include "quant/quant_method.h"

namespace qat {
namespace {

TEST(SymmetricMinMax, SignedWeightsPerChannelUseTheLargerMagnitude) {
  // Channel 0 reaches further below zero, channel 1 further above.
  const Tensor w = Tensor::from_vector({2, 3}, {-3.0f, 1.0f, 0.5f, -1.0f, 2.0f, 0.25f});
  const auto q =
      make_quantizer("minmax_sym", {.bits = 4, .per_channel = true, .channels = 2, .is_signed = {}});
  q->forward(Variable(w));
  const QuantGrid g = q->grid();
  EXPECT_EQ(g.qmin, -8);
  EXPECT_EQ(g.qmax, 7);
  ASSERT_EQ(g.scale.size(), 2u);
  EXPECT_FLOAT_EQ(g.scale[0], 3.0f / 7.5f);
  EXPECT_FLOAT_EQ(g.scale[1], 2.0f / 7.5f);
  EXPECT_EQ(g.offset, (std::vector<float>{0.0f, 0.0f}));
  // −3 is code −7.5 → rounds to −8 (in range); 2 is code 7.5 → clipped to 7.
  q->eval();
  const std::vector<float> y = q->forward(Variable(w)).data().to_vector();
  EXPECT_FLOAT_EQ(y[0], -8 * g.scale[0]);
  EXPECT_FLOAT_EQ(y[4], 7 * g.scale[1]);
}

TEST(SymmetricMinMax, NonNegativeActivationsUseEveryUnsignedCode) {
  Tensor x = Generator(3).normal_tensor({4, 32});
  std::vector<float> v = x.to_vector();
  for (float& e : v) e = std::abs(e);
  const float top = *std::max_element(v.begin(), v.end());
  const auto q =
      make_quantizer("minmax_sym", {.target = QuantTarget::activation, .bits = 3, .is_signed = {}});
  q->forward(Variable(Tensor::from_vector({4, 32}, v)));
  const QuantGrid g = q->grid();
  EXPECT_FALSE(q->is_signed());
  EXPECT_EQ(g.qmin, 0);
  EXPECT_EQ(g.qmax, 7);
  EXPECT_FLOAT_EQ(g.scale[0], top / 7.0f);
  EXPECT_EQ(g.offset[0], 0.0f);
}

}  // namespace
}  // namespace qat
