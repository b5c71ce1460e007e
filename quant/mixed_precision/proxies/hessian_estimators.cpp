#include "quant/mixed_precision/proxies/hessian_estimators.h"

#include <cmath>
#include <random>

#include "engine/error.h"

namespace qat {

TraceEstimate hutchinson_trace(const BlockProduct& hv, const std::vector<int64_t>& sizes, int min_probes,
                               int max_probes, double tolerance, uint64_t seed) {
  QAT_CHECK(min_probes >= 2 && max_probes >= min_probes, "hutchinson: probes ", min_probes, "..", max_probes);
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution coin(0.5);
  const size_t blocks = sizes.size();
  std::vector<double> sum(blocks, 0.0), sum2(blocks, 0.0);
  TraceEstimate out;
  for (int probe = 1; probe <= max_probes; ++probe) {
    std::vector<Eigen::VectorXd> v;
    for (const int64_t n : sizes) {
      Eigen::VectorXd b(n);
      for (int64_t i = 0; i < n; ++i) b(i) = coin(rng) ? 1.0 : -1.0;
      v.push_back(std::move(b));
    }
    const std::vector<Eigen::VectorXd> h = hv(v);
    bool settled = true;
    for (size_t b = 0; b < blocks; ++b) {
      const double sample = v[b].dot(h[b]);
      const double before = probe > 1 ? sum[b] / (probe - 1) : 0.0;
      sum[b] += sample;
      sum2[b] += sample * sample;
      const double now = sum[b] / probe;
      settled = settled && probe > 1 && std::abs(now - before) <= tolerance * std::abs(now);
    }
    out.probes = probe;
    if (probe >= min_probes && settled) break;
  }
  const auto n = static_cast<double>(out.probes);
  for (size_t b = 0; b < blocks; ++b) {
    const double mean = sum[b] / n;
    const double variance = std::max(0.0, (sum2[b] - n * mean * mean) / (n - 1));
    out.trace.push_back(mean);
    out.standard_error.push_back(std::sqrt(variance / n));
  }
  return out;
}

double power_iteration(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& hv, int64_t n,
                       int iterations, double tolerance, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::VectorXd v(n);
  for (int64_t i = 0; i < n; ++i) v(i) = normal(rng);
  v.normalize();
  double eigenvalue = 0;
  for (int it = 0; it < iterations; ++it) {
    const Eigen::VectorXd h = hv(v);
    const double rayleigh = v.dot(h);
    const bool settled = it > 0 && std::abs(rayleigh - eigenvalue) <= tolerance * std::abs(rayleigh);
    eigenvalue = rayleigh;
    if (settled || h.norm() == 0) break;
    v = h / h.norm();
  }
  return eigenvalue;
}

}  // namespace qat
