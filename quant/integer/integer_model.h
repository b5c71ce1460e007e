#pragma once
// IntegerModel: integer inference of a packed model on oneDNN's int8 primitives. The architecture's
// module tree gives the order of operations; every number comes from the packed records. Quantized
// layers read u8/s8 codes of their input on its learned grid (as fake-quantized evaluation does) and
// accumulate in s32; folded batch norm, ReLU and the next layer's requantization run in the kernels'
// epilogue; residual sums, pooling and the layers runs_int8 refuses (a float input such as the image,
// post-training record fields, codes beyond s8) stay in f32.
#include <functional>
#include <vector>

#include "layers/module.h"
#include "quant/export/packed_model.h"

namespace qat {

/// A compiled integer model; the kernels are built once, their weights reordered on first use.
class IntegerModel {
 public:
  /// Compiles `architecture` (the module tree `packed` was exported from, quantized or not; its own
  /// weights are not read) with the layers of `packed`. Supports Sequential, BasicBlock, Conv2d/Linear
  /// with a folded batch norm, ReLU/ReLU6, global average pooling, Flatten and Identity; errors name the
  /// module.
  IntegerModel(Module& architecture, const PackedModel& packed);
  /// Logits for a float input batch [N, C, H, W], normalized as for the float model.
  Tensor forward(const Tensor& input) const;

 private:
  using Step = std::function<Tensor(Tensor)>;
  std::vector<Step> steps_;
};

}  // namespace qat
