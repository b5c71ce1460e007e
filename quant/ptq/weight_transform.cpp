#include "quant/ptq/weight_transform.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/error.h"
#include "quant/ptq/fast_walsh_hadamard.h"

namespace qat::ptq {

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A Haar-distributed orthogonal p×p matrix: Q of a Gaussian's QR with R's diagonal made positive
// (Mezzadri 2007, "How to generate random matrices from the classical compact groups").
Eigen::MatrixXd haar_orthogonal(int64_t p, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd g = Eigen::MatrixXd::NullaryExpr(p, p, [&]() { return normal(rng); });
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  const Eigen::MatrixXd q = qr.householderQ();
  const Eigen::VectorXd sign =
      qr.matrixQR().diagonal().unaryExpr([](double r) { return r < 0 ? -1.0 : 1.0; });
  return q * sign.asDiagonal();
}

std::vector<int32_t> random_permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  return perm;
}

void append_blocks(std::vector<double>& blocks, int64_t count, int64_t size, std::mt19937_64& rng) {
  for (int64_t b = 0; b < count; ++b) {
    const RowMajor block = haar_orthogonal(size, rng);
    blocks.insert(blocks.end(), block.data(), block.data() + block.size());
  }
}

// Column j of x ← block·(that column's entries at `first + k·stride`, k < size), each block in turn.
void apply_blocks(const WeightTransform& t, Eigen::MatrixXd& x, bool second, bool transpose) {
  const int64_t size = second ? t.q : t.p, count = t.n / size, stride = second ? 1 : t.q;
  const double* base = t.blocks.data() + (second ? t.p * t.p * t.q : 0);
  Eigen::VectorXd v(size);
  for (int64_t b = 0; b < count; ++b) {
    const Eigen::Map<const RowMajor> block(base + b * size * size, size, size);
    const int64_t first = second ? b * t.q : b;
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (int64_t k = 0; k < size; ++k) v(k) = x(first + k * stride, j);
      v = transpose ? (block.transpose() * v).eval() : (block * v).eval();
      for (int64_t k = 0; k < size; ++k) x(first + k * stride, j) = v(k);
    }
  }
}

// Rows of x gathered (y_i = x_{perm_i}) or scattered (y_{perm_i} = x_i).
void permute_rows(const std::vector<int32_t>& perm, Eigen::MatrixXd& x, bool scatter) {
  Eigen::MatrixXd y(x.rows(), x.cols());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (scatter)
      y.row(perm[i]) = x.row(static_cast<Eigen::Index>(i));
    else
      y.row(static_cast<Eigen::Index>(i)) = x.row(perm[i]);
  }
  x.swap(y);
}

void hadamard_blocks(const WeightTransform& t, Eigen::MatrixXd& x) {
  const int64_t block = t.n / t.p;  // t.p holds r, the number of 2^k blocks
  const double norm = 1.0 / std::sqrt(static_cast<double>(block));
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (int64_t b = 0; b < t.p; ++b) fast_walsh_hadamard(x.col(j).data() + b * block, block);
  x *= norm;
}

}  // namespace

std::pair<int64_t, int64_t> butterfly_factors(int64_t n) {
  QAT_CHECK(n >= 1, "butterfly_factors: n = ", n);
  int64_t pq[2] = {1, 1}, which = 0;
  for (int64_t f = 2; f * f <= n; ++f)
    for (; n % f == 0; n /= f, which ^= 1) pq[which] *= f;
  if (n > 1) pq[which] *= n;
  return {pq[0], pq[1]};
}

WeightTransform kronecker_transform(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto [p, q] = butterfly_factors(n);
  WeightTransform t;
  t.kind = WeightTransform::Kind::kronecker;
  t.n = n, t.seed = seed, t.p = p, t.q = q;
  append_blocks(t.blocks, n / p, p, rng);
  append_blocks(t.blocks, n / q, q, rng);
  t.perm_in = random_permutation(n, rng);
  t.perm_out = random_permutation(n, rng);
  return t;
}

WeightTransform hadamard_transform(int64_t n, uint64_t seed) {
  int64_t block = 1;
  while (n % (block * 2) == 0) block *= 2;
  if (block < 16) return kronecker_transform(n, seed);
  std::mt19937_64 rng(seed);
  WeightTransform t;
  t.kind = WeightTransform::Kind::hadamard;
  t.n = n, t.seed = seed, t.p = n / block, t.q = block;
  for (int64_t i = 0; i < n; ++i) t.signs.push_back(rng() & 1 ? 1 : -1);
  return t;
}

WeightTransform make_transform(WeightTransform::Kind kind, int64_t n, uint64_t seed) {
  if (kind == WeightTransform::Kind::hadamard) return hadamard_transform(n, seed);
  if (kind == WeightTransform::Kind::kronecker) return kronecker_transform(n, seed);
  WeightTransform identity;
  identity.n = n;
  return identity;
}

void apply_transform(const WeightTransform& t, Eigen::MatrixXd& x) {
  if (t.kind == WeightTransform::Kind::none) return;
  QAT_CHECK(x.rows() == t.n, "apply_transform: ", x.rows(), " rows for an ", t.n, "×", t.n, " transform");
  if (t.kind == WeightTransform::Kind::hadamard) {
    for (int64_t i = 0; i < t.n; ++i) x.row(i) *= t.signs[i];
    return hadamard_blocks(t, x);
  }
  permute_rows(t.perm_in, x, false);
  apply_blocks(t, x, false, false);
  apply_blocks(t, x, true, false);
  permute_rows(t.perm_out, x, false);
}

void apply_transform_transpose(const WeightTransform& t, Eigen::MatrixXd& x) {
  if (t.kind == WeightTransform::Kind::none) return;
  QAT_CHECK(x.rows() == t.n, "apply_transform_transpose: ", x.rows(), " rows for an ", t.n, "×", t.n,
            " transform");
  if (t.kind == WeightTransform::Kind::hadamard) {
    hadamard_blocks(t, x);  // H_{2^k} is symmetric
    for (int64_t i = 0; i < t.n; ++i) x.row(i) *= t.signs[i];
    return;
  }
  permute_rows(t.perm_out, x, true);
  apply_blocks(t, x, true, true);
  apply_blocks(t, x, false, true);
  permute_rows(t.perm_in, x, true);
}

}  // namespace qat::ptq
