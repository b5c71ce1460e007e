#pragma once
// ImageDataset: a whole image classification split in memory (u8 pixels, s32 labels).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace qat {

/// Images u8 [N, C, H, W] and their labels.
struct ImageDataset {
  Tensor images;
  std::vector<int32_t> labels;
  int num_classes = 0;
  std::string name;

  /// Number of examples.
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  /// The first `limit` examples (all when limit is 0 or larger than the set).
  ImageDataset first(int64_t limit) const;
};

}  // namespace qat
