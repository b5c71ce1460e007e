#pragma once
// RecordLayout: the shapes of one layer's post-training record (PTQ.md, "The quantized-weight record"),
// which follow from the layer and the `ptq` section alone, so that the record quantizer's buffers exist
// before a checkpoint is loaded into a freshly built model.
#include <cstdint>

#include "engine/shape.h"

namespace qat::ptq {

/// Which fields a layer's record has, and their sizes.
struct RecordLayout {
  Shape shape;         ///< the weight's shape, output channels first
  int64_t scales = 0;  ///< entries of scale and zero_point: 1, out, out·⌈in/group_size⌉, or 0 (levels)
  int64_t group_size = 0;   ///< input columns per grid (0: one grid per row)
  bool levels = false;      ///< BAQ: levels per input column, row_lo and row_hi per row
  bool col_scale = false;   ///< a scale per input column (SINQ μ1, QuIP 1/D)
  bool transforms = false;  ///< QuIP: the input and output transforms
};

}  // namespace qat::ptq
