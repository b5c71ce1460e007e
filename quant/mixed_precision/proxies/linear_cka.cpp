#include "quant/mixed_precision/proxies/linear_cka.h"

#include "engine/error.h"

namespace qat {
namespace {

double gram_cka(const Eigen::MatrixXd& kx, const Eigen::MatrixXd& ky) {
  const double denominator = kx.norm() * ky.norm();
  return denominator > 0 ? (kx.array() * ky.array()).sum() / denominator : 0.0;
}

}  // namespace

Eigen::MatrixXd centered_gram(const Eigen::MatrixXd& x) {
  const Eigen::MatrixXd k = x * x.transpose();
  // J·K·J without forming J: subtract row and column means, add back the grand mean.
  const Eigen::VectorXd row_mean = k.rowwise().mean();
  const Eigen::RowVectorXd col_mean = k.colwise().mean();
  return (k.colwise() - row_mean).rowwise() - col_mean +
         Eigen::MatrixXd::Constant(k.rows(), k.cols(), k.mean());
}

double linear_cka(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  QAT_CHECK(x.rows() == y.rows(), "linear CKA: ", x.rows(), " against ", y.rows(), " samples");
  return gram_cka(centered_gram(x), centered_gram(y));
}

Eigen::MatrixXd orthogonality_matrix(const std::vector<Eigen::MatrixXd>& features) {
  std::vector<Eigen::MatrixXd> grams;
  for (const Eigen::MatrixXd& x : features) {
    QAT_CHECK(x.rows() == features[0].rows(), "orthogonality matrix: ", x.rows(), " against ",
              features[0].rows(), " samples");
    grams.push_back(centered_gram(x));
  }
  const auto n = static_cast<Eigen::Index>(grams.size());
  Eigen::MatrixXd orm = Eigen::MatrixXd::Identity(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) orm(i, j) = orm(j, i) = gram_cka(grams[i], grams[j]);
  return orm;
}

}  // namespace qat
