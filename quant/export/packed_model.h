#pragma once
// PackedModel: a quantized model as integer inference needs it — per quantized layer its geometry, its
// weight record (codes, per-channel scales and zero points, bits, folded bias) and its input grid — plus
// the experiment config text that rebuilds the architecture.
#include <optional>
#include <string>
#include <vector>

#include "layers/module.h"
#include "quant/export/quantized_weight.h"

namespace qat {

/// Version written into packed files; readers take 1 (no post-training fields) up to it.
constexpr int64_t kPackedFormatVersion = 2;

/// The grid a layer's input is quantized on: code = clamp(⌊(x − offset)/scale⌉, qmin, qmax) with
/// offset = −zero_point·scale, so x ≈ (code − zero_point)·scale.
struct InputGrid {
  float scale = 1.0f;
  int64_t zero_point = 0;
  int64_t qmin = 0;
  int64_t qmax = 0;
  int bits = 0;
  bool is_signed = false;
};

/// Kind of a packed layer.
enum class PackedKind { conv2d, linear };

/// One quantized conv/linear layer with the batch norm that follows it folded in.
struct PackedLayer {
  std::string path;  ///< module path, e.g. "layer1_0.conv1"
  PackedKind kind = PackedKind::conv2d;
  int64_t stride = 1;  ///< convolution geometry (1/0/1/1 for linear)
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  QuantizedWeight weight;          ///< codes and scales with the batch norm folded in
  std::string batch_norm;          ///< path of the folded batch norm ("" when none)
  bool relu = false;               ///< the folded batch norm's fused ReLU
  std::optional<InputGrid> input;  ///< unset: the layer reads a float input (the image)
};

/// A packed model.
struct PackedModel {
  std::string config;               ///< the experiment config text of the checkpoint
  std::vector<PackedLayer> layers;  ///< in model order

  /// The layer at `path`; errors name the path.
  const PackedLayer& layer(const std::string& path) const;
};

/// Number of weight elements over all layers.
int64_t weight_count(const PackedModel& model);
/// Σ numel·bits/8 over the weights, the payload's lower bound.
double ideal_payload_bytes(const PackedModel& model);

/// Packs every conv/linear layer of `model` (all must be QuantizedLayers with a weight quantizer, inputs
/// on grids with integer zero points that fit 8 bits, weights of at most 8 bits); a BatchNorm2d right
/// after a layer among its siblings is folded into it. Switches `model` to evaluation mode.
PackedModel pack_model(Module& model, const std::string& config);

}  // namespace qat
