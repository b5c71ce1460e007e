#pragma once
// QuantizedWeight: the one record of a quantized layer's weight that export (ONNX, packed) and integer
// inference share — integer codes, per-channel scales and zero points, bits, and the float bias with a
// following batch norm folded onto the same integer grid.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "layers/batch_norm2d.h"
#include "quant/ptq/weight_transform.h"
#include "quant/quantized_layer.h"

namespace qat {

/// A batch norm in evaluation as a per-channel affine map y·k + shift, with its fused ReLU:
/// γ·(y − μ)/sqrt(σ² + ε) + β = y·k + (β − μ·k), k = γ/sqrt(σ² + ε).
struct ChannelAffine {
  std::vector<float> k;
  std::vector<float> shift;
  bool relu = false;
};

/// The affine map of `bn` (evaluation statistics); `channels` must match; errors name `path`.
ChannelAffine fold_batch_norm(BatchNorm2d& bn, int64_t channels, const std::string& path);

/// A weight on its quantizer's grid: weight = (code − zero_point[c])·scale[c] per output channel c
/// (one scale and zero point for the whole tensor when per-tensor and unfolded).
struct QuantizedWeight {
  Shape shape;                      ///< the weight's shape, output channels first
  std::vector<int64_t> codes;       ///< integer codes, row-major like the weight
  std::vector<float> scale;         ///< step per channel (or one)
  std::vector<int64_t> zero_point;  ///< integer zero point per channel (or one)
  int64_t qmin = 0;                 ///< lowest code of the grid
  int64_t qmax = 0;                 ///< highest code of the grid
  int bits = 0;                     ///< bits of a code
  std::vector<float> bias;          ///< float bias per output channel (empty: none)
  // Post-training quantization (PTQ.md, "The quantized-weight record"); the defaults are a per-row grid.
  int64_t group_size = 0;             ///< 0: scale per row (or one); else [out, ⌈in/g⌉] row-major
  int code_stride = 1;                ///< codes are qmin + code_stride·k (QuIP: odd codes, stride 2)
  std::vector<int32_t> levels = {};   ///< BAQ: levels n_j per input column (scale, zero_point empty)
  std::vector<float> row_lo = {};     ///< BAQ: row range the column grids span
  std::vector<float> row_hi = {};     ///< BAQ: row range the column grids span
  std::vector<float> col_scale = {};  ///< per input column, original basis (SINQ μ1, QuIP 1/D)
  ptq::WeightTransform in = {};       ///< V (d×d): the weight used is Uᵀ·Ŵ·V·diag(col_scale)
  ptq::WeightTransform out = {};      ///< U (out×out)
  /// Per output row after the output transform: a batch norm's k folded after U, which mixes the rows
  /// (empty: none). The weight used is then diag(row_scale)·Uᵀ·Ŵ·V·diag(col_scale).
  std::vector<float> row_scale = {};

  /// Output channels (shape[0]).
  int64_t out_channels() const { return shape.at(0); }
};

/// The first post-training field `w` has beyond a per-row (or per-tensor) grid — "group_size",
/// "code_stride", "levels", "col_scale", "in", "out" or "row_scale" (PTQ.md) — or "" when it has none.
std::string ptq_field(const QuantizedWeight& w);

/// The integer zero point −offset/scale of a grid; errors (naming `what`) when it is not an integer.
int64_t integer_zero_point(float offset, float scale, const std::string& what);

/// The layer's bias through `fold` (b·k + shift, a missing bias counting as 0); empty when it has neither.
std::vector<float> folded_bias(const WeightedLayer& layer, const ChannelAffine* fold);

/// The weight of `layer` as it is evaluated (codes checked to lie on the grid; a record quantizer's record)
/// with its bias; with `fold`, scale[c]·k[c] per output channel (the codes stay) and the folded bias. Errors
/// name `path` (uninitialized quantizer, scales that do not match the channels, off-grid values). A batch
/// norm after an output transform goes into row_scale.
QuantizedWeight quantize_weight(QuantizedLayer& layer, const std::string& path,
                                const ChannelAffine* fold = nullptr);

}  // namespace qat
