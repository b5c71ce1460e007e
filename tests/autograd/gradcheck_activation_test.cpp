// Gradient checks for the activation ops against central finite differences (f32, eps 1e-2,
// atol 2e-3, rtol 1e-2). Inputs keep a margin from kinks (0 and 6) so differences are well defined.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/activation.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

// Values in [-4, 8] at least 0.1 away from the kinks at 0 and 6.
Tensor away_from_kinks(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  Tensor t = gen.uniform_tensor(shape, -4.0f, 8.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (std::abs(p[i]) < 0.1f) p[i] += 0.2f;
    if (std::abs(p[i] - 6.0f) < 0.1f) p[i] += 0.2f;
  }
  return t;
}

void expect_gradients_match(Variable (*op)(const Variable&)) {
  const Tensor x = away_from_kinks({2, 3, 4, 5}, 11);
  EXPECT_EQ(gradcheck([op](const std::vector<Variable>& in) { return op(in[0]); }, {x}), "");
}

TEST(GradcheckActivation, Relu) { expect_gradients_match(relu); }
TEST(GradcheckActivation, Relu6) { expect_gradients_match(relu6); }
TEST(GradcheckActivation, Gelu) { expect_gradients_match(gelu); }
TEST(GradcheckActivation, Sigmoid) { expect_gradients_match(sigmoid); }
TEST(GradcheckActivation, Tanh) { expect_gradients_match(tanh); }
TEST(GradcheckActivation, Softplus) { expect_gradients_match(softplus); }

TEST(GradcheckActivation, Hardswish) {
  // hardswish has kinks at -3 and 3; shift values off them.
  Tensor x = away_from_kinks({3, 17}, 12);
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    if (std::abs(std::abs(p[i]) - 3.0f) < 0.1f) p[i] += 0.2f;
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return hardswish(in[0]); }, {x}), "");
}

TEST(GradcheckActivation, Clamp) {
  Tensor x = away_from_kinks({4, 9}, 13);
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    if (std::abs(p[i] - 2.5f) < 0.1f || std::abs(p[i] + 1.5f) < 0.1f) p[i] += 0.2f;
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return clamp(in[0], -1.5f, 2.5f); }, {x}), "");
}

TEST(GradcheckActivation, ClampRejectsInvertedBounds) {
  const Variable x(Tensor::zeros({2, 2}));
  try {
    clamp(x, 1.0f, -1.0f);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("clamp"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[2, 2]"), std::string::npos);
  }
}

}  // namespace
}  // namespace qat
