#pragma once
// BitConfig: the bits of every quantized layer of a model, in model order — what an allocator writes, a
// rules file stores (MIXED_PRECISION.md, "BitConfig") and `qat inspect --rules-out` extracts.
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

/// One layer's widths; a_bits 0: the layer reads a float input (the image).
struct LayerBits {
  std::string path;
  int w_bits = 0;
  int a_bits = 0;
  int64_t group_size = 0;
};

/// Every quantized layer's widths, model order.
struct BitConfig {
  std::vector<LayerBits> layers;
};

}  // namespace qat
