// GradientProbe: the finite-difference Hessian-vector product of a tiny tanh MLP with cross-entropy
// matches H·v of its float64 Hessian (built column by column from the analytic float64 gradient); the
// weights come back unchanged.
#include "quant/mixed_precision/proxies/gradient_probe.h"

#include <gtest/gtest.h>

#include "engine/random.h"
#include "layers/activation.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "tests/test_util.h"

namespace qat {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr int64_t kIn = 6, kHidden = 8, kClasses = 3, kBatch = 16;

MatrixXd matrix_of(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  MatrixXd m(t.dim(0), t.numel() / t.dim(0));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = v[static_cast<size_t>(r * m.cols() + c)];
  return m;
}

// Mean cross-entropy gradient of (W1, W2) flattened row-major, in float64: z = tanh(x·W1ᵀ + b1)·W2ᵀ + b2.
struct Reference {
  MatrixXd x, b1, b2;
  std::vector<int> y;

  VectorXd gradient(const VectorXd& w) const {
    const MatrixXd w1 = Eigen::Map<const MatrixXd>(w.data(), kIn, kHidden).transpose();
    const MatrixXd w2 = Eigen::Map<const MatrixXd>(w.data() + kIn * kHidden, kHidden, kClasses).transpose();
    const MatrixXd h = ((x * w1.transpose()).rowwise() + b1.row(0)).array().tanh().matrix();
    MatrixXd z = (h * w2.transpose()).rowwise() + b2.row(0);
    MatrixXd p = (z.colwise() - z.rowwise().maxCoeff()).array().exp().matrix();
    p = p.array().colwise() / p.rowwise().sum().array();
    for (int n = 0; n < kBatch; ++n) p(n, y[n]) -= 1.0;
    p /= static_cast<double>(kBatch);  // dL/dz
    const MatrixXd gw2 = p.transpose() * h;
    const MatrixXd dh = (p * w2).array() * (1.0 - h.array().square());
    const MatrixXd gw1 = dh.transpose() * x;
    VectorXd g(w.size());
    const MatrixXd gw1t = gw1.transpose(), gw2t = gw2.transpose();
    g << Eigen::Map<const VectorXd>(gw1t.data(), gw1t.size()),
        Eigen::Map<const VectorXd>(gw2t.data(), gw2t.size());
    return g;
  }

  // Column j of H by central differences of the analytic gradient (error O(h²) ≈ 1e-10).
  MatrixXd hessian(const VectorXd& w) const {
    const double h = 1e-5;
    MatrixXd hessian(w.size(), w.size());
    for (Eigen::Index j = 0; j < w.size(); ++j) {
      VectorXd plus = w, minus = w;
      plus(j) += h;
      minus(j) -= h;
      hessian.col(j) = (gradient(plus) - gradient(minus)) / (2 * h);
    }
    return hessian;
  }
};

TEST(GradientProbe, FiniteDifferenceHvpMatchesTheFloat64Hessian) {
  manual_seed(3);
  auto model = std::make_shared<Sequential>();
  auto fc1 = std::make_shared<Linear>(LinearOptions{.in = kIn, .out = kHidden});
  auto fc2 = std::make_shared<Linear>(LinearOptions{.in = kHidden, .out = kClasses});
  model->add("fc1", fc1).add("act", std::make_shared<Activation>(ActivationKind::tanh)).add("fc2", fc2);
  Generator gen(4);
  const Tensor x = gen.normal_tensor({kBatch, kIn});
  Tensor y = Tensor::empty({kBatch}, DType::s32);
  Reference ref{.x = matrix_of(x),
                .b1 = matrix_of(fc1->bias().data().reshape({1, kHidden})),
                .b2 = matrix_of(fc2->bias().data().reshape({1, kClasses})),
                .y = {}};
  for (int n = 0; n < kBatch; ++n) {
    y.data<int32_t>()[n] = n % kClasses;
    ref.y.push_back(n % kClasses);
  }
  const std::vector<float> w1 = fc1->weight().data().to_vector(), w2 = fc2->weight().data().to_vector();
  VectorXd w(w1.size() + w2.size());
  for (size_t i = 0; i < w1.size(); ++i) w(static_cast<Eigen::Index>(i)) = w1[i];
  for (size_t i = 0; i < w2.size(); ++i) w(static_cast<Eigen::Index>(w1.size() + i)) = w2[i];
  const MatrixXd hessian = ref.hessian(w);
  EXPECT_LT((hessian - hessian.transpose()).norm(), 1e-6 * hessian.norm());

  GradientProbe probe(*model, {"fc1", "fc2"}, x, y);
  // The probe's gradient is the reference's.
  const WeightBlocks g = probe.gradients();
  VectorXd g_all(w.size());
  g_all << g[0], g[1];
  EXPECT_LT((g_all - ref.gradient(w)).norm(), 1e-5 * ref.gradient(w).norm());
  for (int trial = 0; trial < 3; ++trial) {
    VectorXd v = VectorXd::Zero(w.size());
    for (Eigen::Index i = 0; i < v.size(); ++i) v(i) = gen.normal_tensor({1}).item();
    if (trial == 2) v.tail(w2.size()).setZero();  // one block only (the other one empty)
    WeightBlocks blocks{v.head(w1.size()), v.tail(w2.size())};
    if (trial == 2) blocks[1] = VectorXd();
    const WeightBlocks hv = probe.hessian_vector(blocks);
    VectorXd hv_all(w.size());
    hv_all << hv[0], hv[1];
    const VectorXd expected = hessian * v;
    EXPECT_LT((hv_all - expected).norm(), 1e-2 * expected.norm()) << "trial " << trial;
  }
  EXPECT_EQ(fc1->weight().data().to_vector(), w1);
  EXPECT_EQ(fc2->weight().data().to_vector(), w2);
}

TEST(GradientProbe, UnknownLayerIsNamed) {
  auto model = std::make_shared<Sequential>();
  model->add("fc", std::make_shared<Linear>(LinearOptions{.in = 2, .out = 2}));
  const std::string error = test::error_of([&] {
    GradientProbe probe(*model, {"fc", "head"}, Tensor::zeros({1, 2}), Tensor::zeros({1}, DType::s32));
  });
  EXPECT_NE(error.find("'head'"), std::string::npos) << error;
}

}  // namespace
}  // namespace qat
