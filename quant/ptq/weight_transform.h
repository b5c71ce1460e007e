#pragma once
// WeightTransform: the random orthogonal n×n matrices of QuIP's incoherence processing (PTQ.md, "QuIP"),
// stored by their structure — a randomized Hadamard or a two-factor Kronecker product with permutations.
#include <Eigen/Dense>
#include <cstdint>
#include <utility>
#include <vector>

namespace qat::ptq {

/// An orthogonal n×n matrix Q, identity when kind == none.
struct WeightTransform {
  enum class Kind { none, hadamard, kronecker } kind = Kind::none;
  int64_t n = 0;
  uint64_t seed = 0;
  std::vector<int8_t> signs;               ///< hadamard: ±1 applied before the blocks
  int64_t p = 0, q = 0;                    ///< n = p·q: kronecker factors; hadamard r blocks of 2^k
  std::vector<int32_t> perm_in, perm_out;  ///< kronecker: gathers before and after the blocks
  std::vector<double> blocks;              ///< kronecker: n/p p×p then n/q q×q, row-major
};

/// n's prime factors (ascending) multiplied alternately into (p, q) (Cornell-RelaxML/QuIP:method.py).
std::pair<int64_t, int64_t> butterfly_factors(int64_t n);

/// blockdiag(H_{2^k}/2^{k/2})·diag(signs), n = r·2^k with k maximal; Kronecker when 2^k < 16.
WeightTransform hadamard_transform(int64_t n, uint64_t seed);

/// P_out·B_q·B_p·P_in: n/p Haar-random p×p blocks, then n/q q×q blocks, random permutations.
WeightTransform kronecker_transform(int64_t n, uint64_t seed);

/// The transform of `kind` generated from (n, seed): hadamard_transform, kronecker_transform, or the
/// identity.
WeightTransform make_transform(WeightTransform::Kind kind, int64_t n, uint64_t seed);

/// x ← Q·x for each column of x (n rows).
void apply_transform(const WeightTransform& t, Eigen::MatrixXd& x);

/// x ← Qᵀ·x for each column of x (n rows).
void apply_transform_transpose(const WeightTransform& t, Eigen::MatrixXd& x);

}  // namespace qat::ptq
