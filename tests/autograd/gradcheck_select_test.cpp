// where: gradient checks (f32, eps 1e-2, atol 2e-3, rtol 1e-2). round_ste: the straight-through estimator
// is a definition, not a derivative (finite differences of round are 0 almost everywhere), so its test
// asserts the gradient equals the upstream gradient exactly and the values round half to even.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/select.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

TEST(GradcheckSelect, Where) {
  Generator gen(51);
  const Tensor mask = Tensor::from_vector({2, 3}, {1, 0, 0, 1, 1, 0});
  const Tensor a = gen.uniform_tensor({2, 3}, -1, 1), b = gen.uniform_tensor({2, 3}, -1, 1);
  EXPECT_EQ(gradcheck([&](const std::vector<Variable>& in) { return where(mask, in[0], in[1]); }, {a, b}),
            "");
  const std::vector<float> out = where(mask, Variable(a), Variable(b)).data().to_vector();
  EXPECT_EQ(out[0], a.to_vector()[0]);
  EXPECT_EQ(out[1], b.to_vector()[1]);
}

TEST(GradcheckSelect, WhereRejectsShapeMismatch) {
  try {
    where(Tensor::zeros({2}), Variable(Tensor::zeros({2})), Variable(Tensor::zeros({3})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("where"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[3]"), std::string::npos);
  }
}

TEST(GradcheckSelect, RoundSte) {
  Variable x(Tensor::from_vector({6}, {-1.5f, -0.5f, 0.49f, 0.5f, 1.5f, 2.51f}), true);
  const Variable y = round_ste(x);
  EXPECT_EQ(y.data().to_vector(), (std::vector<float>{-2, -0, 0, 0, 2, 3}));
  const Tensor upstream = Tensor::from_vector({6}, {1, -2, 3, -4, 5, -6});
  y.backward(upstream);
  EXPECT_EQ(x.grad().to_vector(), upstream.to_vector());
}

}  // namespace
}  // namespace qat
