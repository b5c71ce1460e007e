#include "layers/models/resnet.h"

#include "engine/error.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/models/basic_block.h"
#include "layers/pool2d.h"

namespace qat {

std::shared_ptr<Sequential> resnet(const ResNetOptions& options) {
  QAT_CHECK(!options.widths.empty() && options.blocks_per_stage > 0,
            "resnet: needs at least one stage and block");
  auto model = std::make_shared<Sequential>();
  const int64_t stem = options.widths.front();
  model->add("stem", std::make_shared<Conv2d>(Conv2dOptions{
                         .in = options.in_channels, .out = stem, .kernel = 3, .padding = 1, .bias = false}));
  model->add("stem_bn",
             std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = stem, .fuse_relu = true}));
  int64_t in = stem;
  for (size_t stage = 0; stage < options.widths.size(); ++stage) {
    for (int64_t b = 0; b < options.blocks_per_stage; ++b) {
      const int64_t stride = stage > 0 && b == 0 ? 2 : 1;
      const int64_t out = options.widths[stage];
      model->add("layer" + std::to_string(stage + 1) + "_" + std::to_string(b),
                 std::make_shared<BasicBlock>(in, out, stride));
      in = out;
    }
  }
  model->add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model->add("flatten", std::make_shared<Flatten>());
  model->add("fc", std::make_shared<Linear>(LinearOptions{.in = in, .out = options.num_classes}));
  return model;
}

std::shared_ptr<Sequential> resnet20(int64_t in_channels, int64_t num_classes) {
  return resnet({.widths = {16, 32, 64},
                 .blocks_per_stage = 3,
                 .in_channels = in_channels,
                 .num_classes = num_classes});
}

std::shared_ptr<Sequential> resnet18(int64_t in_channels, int64_t num_classes) {
  return resnet({.widths = {64, 128, 256, 512},
                 .blocks_per_stage = 2,
                 .in_channels = in_channels,
                 .num_classes = num_classes});
}

}  // namespace qat
