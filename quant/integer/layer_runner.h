#pragma once
// LayerRunner: one layer of a packed model as integer inference runs it — its input quantized on the
// layer's grid, the int8 kernel, and an epilogue with the folded batch norm, the activation and, when the
// next layer's input is quantized, the requantization onto that grid.
#include <memory>
#include <optional>

#include "engine/kernels/int8_conv.h"
#include "quant/export/packed_model.h"

namespace qat {

/// What follows a layer's folded batch norm: nothing, ReLU or ReLU6 (an Activation module after it).
enum class Act { none, relu, relu6 };

/// What a layer's output becomes: f32 (optionally added to the destination, ReLU after the sum), or (int8
/// layers) the codes of the next layer's input; `act` applies before either.
struct LayerOutput {
  std::optional<InputGrid> requantize;
  bool accumulate = false;
  bool relu_after_sum = false;
  Act act = Act::none;
};

/// True when `layer` runs on the int8 kernel: its input is quantized and its record is per-row grids whose
/// codes minus zero point fit s8. Other layers run in f32 (PTQ.md, "Evaluation and export").
bool runs_int8(const PackedLayer& layer);

/// One packed conv/linear layer: an int8 convolution of its input codes (runs_int8), or an f32 convolution
/// by the dequantized weight of its input's values (fake-quantized on its grid when it has one) for a float
/// input, post-training record fields (groups, levels, column scales, transforms) or codes beyond s8. A
/// linear layer runs as a 1x1 convolution.
class LayerRunner {
 public:
  /// Builds the kernel; errors name the layer (unsupported fusions, requantizing an f32 layer's output).
  LayerRunner(const PackedLayer& layer, const LayerOutput& output);
  /// The layer on `x` (f32, or codes on its input grid): f32 NHWC ([N, out] for linear) or the codes of
  /// the next layer's input.
  Tensor run(const Tensor& x) const;
  /// Accumulating form: adds the result to `dst` (NHWC f32).
  void run_into(const Tensor& x, const Tensor& dst) const;

 private:
  Tensor input_of(const Tensor& x) const;
  Tensor real_input(const Tensor& x) const;

  PackedLayer layer_;
  bool int8_;
  kernels::Conv2dParams params_;
  std::unique_ptr<kernels::Int8Conv> conv_;
};

}  // namespace qat
