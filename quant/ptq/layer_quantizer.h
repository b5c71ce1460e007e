#pragma once
// quantize_layer: one layer's post-training quantization by the configured method, with the method's own
// defaults, its scope (QuIP and SINQ on Linear and 1×1 convolutions) and the figures of layers.csv.
#include <string>
#include <vector>

#include "quant/export/quantized_weight.h"
#include "quant/ptq/record_layout.h"

namespace qat::ptq {

/// The post-training method and its settings (PTQ.md, `ptq` section; "" = the method's own).
struct PtqOptions {
  std::string method = "rtn";  ///< rtn, optq, quip, sinq or baq
  int bits = 4;                ///< BAQ: the target rate
  int64_t group_size = 0;      ///< 0: per row (SINQ: tiles of 64)
  std::string grid;            ///< asym0, asym, sym (RTN, OPTQ); "" = asym0
  std::string rounding;        ///< QuIP: nearest, optq or ldlq; "" = ldlq
  std::string incoherence;     ///< QuIP: none, hadamard or kronecker; "" = kronecker
  bool rescale = true;
  uint64_t transform_seed = 1;  ///< QuIP: mixed with the layer path
  int greedy_passes = 0;
  bool unbiased = false;
  double damp = 0.01;
  int64_t block_size = 128;
  bool act_order = false;
  int sinkhorn_iters = 16;
  double kurtosis_gate = 5.0;
  double baq_theta = 1.95;
  int baq_max_levels = 128;
  bool baq_rate_match = true;
};

/// The weight being quantized: [out, in] rows (a conv flattened), its shape and convolution groups.
struct LayerWeight {
  std::string path;
  Eigen::MatrixXd w;         ///< [out, in/groups·k_h·k_w]
  Shape shape;               ///< the layer's weight shape
  bool convolution = false;  ///< Conv2d (else Linear)
  bool pointwise = false;    ///< a 1×1 convolution
  int64_t groups = 1;        ///< convolution groups; h has one H per group
};

/// Checks `options` before any layer is quantized; errors name the `ptq` field (an unknown method, grid,
/// rounding or incoherence; bits, group size, damping, block size, greedy passes or BAQ settings out of
/// range).
void check_options(const PtqOptions& options);

/// `layer` at `path` as quantize_layer takes it, without its values (enough for layer_method, record_layout).
LayerWeight layer_geometry(const std::string& path, const WeightedLayer& layer);
/// `layer` at `path` as quantize_layer takes it, with its values.
LayerWeight layer_weight(const std::string& path, const WeightedLayer& layer);

/// The method that quantizes `layer`: `options.method`, or its fallback outside its scope (QuIP → OPTQ,
/// SINQ → RTN `asym` on its tiles outside Linear and 1×1 convolutions; BAQ → OPTQ on grouped ones).
std::string layer_method(const LayerWeight& layer, const PtqOptions& options);

/// The fields and sizes of `layer`'s record under `options` (values not needed); a group as wide as the
/// row or wider is one grid per row. Errors name the field: an unknown method, a group size that does not
/// divide the layer's wider input rows (SINQ falls back).
RecordLayout record_layout(const LayerWeight& layer, const PtqOptions& options);

/// One row of layers.csv.
struct LayerReport {
  std::string path;
  std::string method;          ///< the method used (the fallback for layers out of a method's scope)
  double bits = 0.0;           ///< bits per weight (BAQ: its rate mean log2 n_j)
  double loss = 0.0;           ///< ℓ = tr(ΔW H ΔWᵀ), original basis, undamped H, summed over groups
  double relative_loss = 0.0;  ///< ℓ / tr(W H Wᵀ)
  double incoherence_before = 0.0;  ///< QuIP: μ(W) before and after the transforms
  double incoherence_after = 0.0;
  double imbalance_before = 0.0;  ///< SINQ: mean tile imbalance before and after Sinkhorn
  double imbalance_after = 0.0;
  double kurtosis = 0.0;  ///< SINQ
  bool gated = false;     ///< SINQ: the kurtosis gate chose RTN
  int damp_retries = 0;   ///< Cholesky retries of the H fix
  double seconds = 0.0;
};

/// A quantized layer: its record, the weight it stands for, and its report.
struct LayerResult {
  QuantizedWeight record;
  Eigen::MatrixXd w_hat;
  LayerReport report;
};

/// BAQ's first pass per convolution group: OPTQ's column losses at the uniform width.
std::vector<Eigen::VectorXd> baq_first_pass(const LayerWeight& layer, const std::vector<Eigen::MatrixXd>& h,
                                            const PtqOptions& options);

/// Quantizes `layer` under its proxy Hessians `h` (one per group); BAQ needs `baq_losses` from its first
/// pass. Out of scope: QuIP → OPTQ, SINQ → RTN `asym` on its tiles, BAQ on grouped convolutions → OPTQ.
LayerResult quantize_layer(const LayerWeight& layer, const std::vector<Eigen::MatrixXd>& h,
                           const PtqOptions& options, const std::vector<Eigen::VectorXd>& baq_losses = {});

/// The header of layers.csv and one layer's row.
std::string layer_report_header();
/// One layer's row of layers.csv.
std::string layer_report_row(const LayerReport& r);

}  // namespace qat::ptq
