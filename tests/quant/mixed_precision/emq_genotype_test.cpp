// EMQ's expression trees: the seed genotype equals its formula mean(softmax₀(abslog G) ⊙ sqrt(relu W)) on
// fixed tensors; unary edge cases (log and sqrt of non-positives, abslog(0), the softmax axis); shape
// mismatches under an element-wise op are errors.
#include "quant/mixed_precision/proxies/emq_genotype.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_util.h"

namespace qat {
namespace {

using Eigen::MatrixXd;

TEST(EmqGenotype, SeedEqualsItsFormula) {
  MatrixXd g(2, 3), w(2, 3);
  g << 0.5, -2.0, 0.0, 1.0, 4.0, -0.25;
  w << 0.09, -1.0, 0.25, 1.0, 0.0, 4.0;
  // abslog G = [[log .5, log 2, 0], [0, log 4, log .25]]; softmax over rows per column.
  const double a[2][3] = {{std::log(0.5), std::log(2.0), 0.0}, {0.0, std::log(4.0), std::log(0.25)}};
  const double sqrt_relu_w[2][3] = {{0.3, 0.0, 0.5}, {1.0, 0.0, 2.0}};
  double expected = 0;
  for (int c = 0; c < 3; ++c) {
    const double z = std::exp(a[0][c]) + std::exp(a[1][c]);
    for (int r = 0; r < 2; ++r) expected += std::exp(a[r][c]) / z * sqrt_relu_w[r][c];
  }
  expected /= 6;
  const EmqLayerInputs in{
      .act = MatrixXd::Zero(1, 1), .grad = MatrixXd::Zero(2, 3), .weight = w, .virtual_grad = g};
  EXPECT_NEAR(emq_score(EmqGenotype::seed(), in), expected, 1e-12);
  EXPECT_EQ(EmqGenotype::seed().str(), "inputs=[virtual_grad, weight], ops=[[1,11],[6,14],2], reduce=mean");
}

TEST(EmqGenotype, UnaryEdgeCases) {
  MatrixXd x(2, 2);
  x << -1.0, 0.0, 4.0, 1.0;
  const MatrixXd log = emq_unary(0, x);
  EXPECT_TRUE(std::isinf(log(0, 0)) && log(0, 0) < 0);  // non-positive zeroed first: log 0
  EXPECT_TRUE(std::isinf(log(0, 1)));
  EXPECT_NEAR(log(1, 0), std::log(4.0), 1e-12);
  const MatrixXd abslog = emq_unary(1, x);
  EXPECT_DOUBLE_EQ(abslog(0, 1), 0.0);  // exact zero → 1 → 0
  EXPECT_DOUBLE_EQ(abslog(0, 0), 0.0);  // log |−1|
  const MatrixXd root = emq_unary(14, x);
  EXPECT_DOUBLE_EQ(root(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(root(1, 0), 2.0);
  const MatrixXd soft = emq_unary(11, x);  // over dim 0: each column sums to 1
  EXPECT_NEAR(soft.col(0).sum(), 1.0, 1e-12);
  EXPECT_NEAR(soft.col(1).sum(), 1.0, 1e-12);
  EXPECT_NEAR(soft(1, 0), std::exp(4.0) / (std::exp(-1.0) + std::exp(4.0)), 1e-12);
  EXPECT_EQ(emq_unary(8, x).size(), 1);
  EXPECT_NEAR(emq_unary(10, x)(0, 0), 1.5, 1e-12);  // l1 as a mean
  EXPECT_NEAR(emq_unary(9, x)(0, 0), 1.0, 1e-12);   // normalized sum as a mean
}

TEST(EmqGenotype, ElementWiseShapeMismatchIsAnError) {
  EmqGenotype g;
  g.inputs = {EmqInput::act, EmqInput::weight};
  g.unary = {{{18, 18}, {18, 18}}};
  const EmqLayerInputs in{.act = MatrixXd::Ones(4, 5),
                          .grad = MatrixXd::Ones(2, 3),
                          .weight = MatrixXd::Ones(2, 3),
                          .virtual_grad = MatrixXd::Ones(2, 3)};
  EXPECT_NE(test::error_of([&] { emq_score(g, in); }).find("element-wise"), std::string::npos);
  g.unary[0] = {18, 16};  // a scalar broadcasts
  EXPECT_DOUBLE_EQ(emq_score(g, in), 1.0);
}

}  // namespace
}  // namespace qat
