#pragma once
// Matrix-free estimates from a Hessian-vector product: Hutchinson's trace of every diagonal block at once
// and the top eigenvalue of one block by power iteration (HAWQ-v2 and HAWQ-v1).
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <vector>

namespace qat {

/// H·v blockwise (one vector per block; the blocks together are the whole vector).
using BlockProduct = std::function<std::vector<Eigen::VectorXd>(const std::vector<Eigen::VectorXd>&)>;

/// Per block: tr(H_bb) estimated and its standard error.
struct TraceEstimate {
  std::vector<double> trace;
  std::vector<double> standard_error;
  int probes = 0;
};

/// Hutchinson (1990): tr(H_bb) = E[v_bᵀ(Hv)_b] for Rademacher v over all blocks, unbiased for every block
/// at once. At least `min_probes`, at most `max_probes`; stops once every block's running mean moved by
/// less than `tolerance` of its magnitude over the last probe. Deterministic for `seed`.
TraceEstimate hutchinson_trace(const BlockProduct& hv, const std::vector<int64_t>& sizes, int min_probes,
                               int max_probes, double tolerance, uint64_t seed);

/// The eigenvalue of largest magnitude of a symmetric H (size n) by power iteration from a seeded Gaussian
/// start: at most `iterations`, stopping when the Rayleigh quotient changes by less than `tolerance` of
/// its magnitude.
double power_iteration(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& hv, int64_t n,
                       int iterations, double tolerance, uint64_t seed);

}  // namespace qat
