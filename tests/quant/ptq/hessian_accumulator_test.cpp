#include "quant/ptq/hessian_accumulator.h"

#include <gtest/gtest.h>

#include "quant/ptq/hessian_fix.h"
#include "tests/quant/ptq/ptq_test_util.h"
#include "tests/test_util.h"

namespace qat::ptq {
namespace {

std::vector<float> random_values(int64_t count, uint64_t seed) {
  const Eigen::MatrixXd g = test::gaussian(count, 1, seed);
  return std::vector<float>(g.data(), g.data() + count);
}

// The unfold written differently: pad the image explicitly, then read each patch of the padded copy.
Eigen::MatrixXd unfold_hessian(const std::vector<float>& x, int64_t n, int64_t c, int64_t hgt, int64_t wid,
                               const Conv2dOptions& o, int64_t group) {
  const int64_t pad = o.padding, ph = hgt + 2 * pad, pw = wid + 2 * pad, cg = c / o.groups, k = o.kernel;
  std::vector<double> padded(n * c * ph * pw, 0.0);
  for (int64_t i = 0; i < n * c; ++i)
    for (int64_t y = 0; y < hgt; ++y)
      for (int64_t z = 0; z < wid; ++z)
        padded[(i * ph + y + pad) * pw + z + pad] = x[(i * hgt + y) * wid + z];
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(cg * k * k, cg * k * k);
  int64_t rows = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y0 = 0; y0 + o.dilation * (k - 1) < ph; y0 += o.stride)
      for (int64_t z0 = 0; z0 + o.dilation * (k - 1) < pw; z0 += o.stride, ++rows) {
        Eigen::VectorXd patch(cg * k * k);
        int64_t col = 0;
        for (int64_t ch = group * cg; ch < (group + 1) * cg; ++ch)
          for (int64_t i = 0; i < k; ++i)
            for (int64_t j = 0; j < k; ++j)
              patch(col++) = padded[((b * c + ch) * ph + y0 + i * o.dilation) * pw + z0 + j * o.dilation];
        sum += patch * patch.transpose();
      }
  return sum / static_cast<double>(rows);
}

TEST(PtqHessian, ConvIm2colEqualsAnExplicitUnfoldInAnyChunkSize) {
  const Conv2dOptions conv{
      .in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 1, .dilation = 2, .groups = 2};
  const Shape shape{3, 4, 9, 8};
  const std::vector<float> values = random_values(3 * 4 * 9 * 8, 1);
  const Tensor x = Tensor::from_vector(shape, values);
  for (const int64_t chunk : {1, 7, 4096}) {
    HessianAccumulator acc(2 * 3 * 3, 2);
    acc.add_conv(x, conv, chunk);
    const std::vector<Eigen::MatrixXd> h = acc.hessians();
    ASSERT_EQ(h.size(), 2u);
    for (int64_t g = 0; g < 2; ++g) {
      const Eigen::MatrixXd expected = unfold_hessian(values, 3, 4, 9, 8, conv, g);
      EXPECT_LT((h[g] - expected).cwiseAbs().maxCoeff(), 1e-9) << "chunk " << chunk << ", group " << g;
    }
    EXPECT_EQ(acc.rows(), 3 * 4 * 3);  // output 4×3: (9 + 2 − 5)/2 + 1 rows, (8 + 2 − 5)/2 + 1 columns
  }
}

TEST(PtqHessian, LinearRowsAreEveryLeadingIndex) {
  const std::vector<float> values = random_values(2 * 5 * 6, 2);
  HessianAccumulator acc(6);
  acc.add_linear(Tensor::from_vector({2, 5, 6}, values));
  acc.add_linear(Tensor::from_vector({2, 5, 6}, values));
  Eigen::MatrixXd x(10, 6);
  for (int64_t i = 0; i < 60; ++i) x(i / 6, i % 6) = values[i];
  EXPECT_LT((acc.hessians()[0] - x.transpose() * x / 10.0).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(acc.rows(), 20);
  EXPECT_NE(test::error_of([&] { acc.add_linear(Tensor::from_vector({2, 3}, random_values(6, 3))); }), "");
}

TEST(PtqHessianFix, DeadInputsAndDamping) {
  Eigen::MatrixXd h = test::sample_hessian(6, 20, 3);
  h.row(2).setZero();
  h.col(2).setZero();
  Eigen::MatrixXd w = test::gaussian(4, 6, 1);
  const FixedHessian f = fix_hessian(h, w, 0.01);
  EXPECT_EQ(f.dead, std::vector<int64_t>{2});
  EXPECT_TRUE(w.col(2).isZero());
  EXPECT_EQ(f.retries, 0);
  h(2, 2) = 1.0;
  const double mean = h.diagonal().mean();
  EXPECT_LT((f.h - h - 0.01 * mean * Eigen::MatrixXd::Identity(6, 6)).cwiseAbs().maxCoeff(), 1e-12);
}

// A singular H pushed slightly indefinite (as float32 accumulation can leave it): 1% damping is not
// enough, 10% is, after one retry.
TEST(PtqHessianFix, RetriesWithTenTimesTheDampingOnASingularH) {
  const Eigen::MatrixXd x = test::gaussian(3, 8, 4);  // rank 3 < 8
  Eigen::MatrixXd h = x.transpose() * x / 3.0;
  const double mean = h.diagonal().mean();
  h.diagonal().array() -= 0.03 * mean;
  Eigen::MatrixXd w = test::gaussian(2, 8, 5);
  const FixedHessian f = fix_hessian(h, w, 0.01);
  EXPECT_EQ(f.retries, 1);
  EXPECT_DOUBLE_EQ(f.damp, 0.1);
  const Eigen::MatrixXd l = f.llt.matrixL();
  EXPECT_LT((l * l.transpose() - f.h).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_NE(test::error_of([&] { fix_hessian(h, w, 0.001, 1); }), "");
}

}  // namespace
}  // namespace qat::ptq
