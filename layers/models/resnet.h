#pragma once
// ResNet builders: CIFAR-style ResNet-20 (16/32/64) and ResNet-18 (64..512), 3x3 stride-1 stem, no max-pool.
#include <memory>
#include <vector>

#include "layers/sequential.h"

namespace qat {

/// Construction options.
struct ResNetOptions {
  std::vector<int64_t> widths;  ///< channels per stage; the first block of every later stage has stride 2
  int64_t blocks_per_stage = 0;
  int64_t in_channels = 0;
  int64_t num_classes = 0;
};

/// stem conv-BN-ReLU, the stages of BasicBlocks, global average pool, flatten, linear classifier.
std::shared_ptr<Sequential> resnet(const ResNetOptions& options);
/// ResNet-20: widths 16/32/64, 3 blocks per stage.
std::shared_ptr<Sequential> resnet20(int64_t in_channels, int64_t num_classes);
/// ResNet-18: widths 64/128/256/512, 2 blocks per stage.
std::shared_ptr<Sequential> resnet18(int64_t in_channels, int64_t num_classes);

}  // namespace qat
