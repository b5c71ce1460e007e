#pragma once
// The sensitivity proxies (MIXED_PRECISION.md, "Sensitivity proxies"): each emits one score per layer,
// either s_l for a linear value s_l·b or Ω_l for a distortion value −Ω_l·‖Q_b(W_l) − W_l‖²_F.
#include <cstdint>
#include <string>
#include <vector>

#include "quant/mixed_precision/proxies/emq_genotype.h"
#include "quant/mixed_precision/proxies/gradient_probe.h"

namespace qat {

/// How a proxy's score becomes a layer's value at b bits.
enum class ValueForm { linear, distortion };

/// One proxy's per-layer scores, in the probe's layer order.
struct ProxyScores {
  std::string proxy;
  ValueForm form = ValueForm::linear;
  std::vector<std::string> paths;
  std::vector<double> score;           ///< s_l (linear) or Ω_l (distortion)
  std::vector<double> raw;             ///< before normalization / clamping (e.g. tr(H_ll), γ_l)
  std::vector<double> standard_error;  ///< of `raw` where the proxy estimates it (hawq_v2)
  int64_t passes = 0;                  ///< gradient passes (forward + backward) spent
  int probes = 0;                      ///< hawq_v2: Hutchinson probes
  double seconds = 0;
};

/// Every proxy's settings.
struct ProxyOptions {
  double ompq_beta = 1;
  int64_t feature_samples = 32;
  int min_probes = 32;
  int max_probes = 100;
  double trace_tolerance = 1e-2;
  int power_iterations = 20;
  double power_tolerance = 1e-3;
  int fisher_batches = 32;
  int64_t fisher_batch = 8;
  uint64_t seed = 1;
  EmqGenotype emq = EmqGenotype::seed();
};

/// "hawq_v1", "hawq_v2", "fisher", "snip", "bparams", "ompq", "emq".
const std::vector<std::string>& proxy_names();

/// Scores the probe's layers by proxy `name`; an unknown name lists the known ones.
ProxyScores score_proxy(const std::string& name, GradientProbe& probe, const ProxyOptions& options);

/// EMQ's per-layer inputs in the probe's layer order: the outputs on the first feature_samples images, the
/// loss and virtual gradients and the weights, each [output channels, rest] (the outputs [samples, rest]).
std::vector<EmqLayerInputs> emq_inputs(GradientProbe& probe, const ProxyOptions& options);

/// OMPQ's scores from its orthogonality matrix: γ_l = Σ_{j≠l} ORM_lj, θ_l = exp(−β·γ_l),
/// s_l = (1/(L − l))·Σ_{j≥l} θ_j (mixed_bit/ORM.py; layers in model order).
std::vector<double> ompq_scores(const Eigen::MatrixXd& orm, double beta);

}  // namespace qat
