#include "layers/models/mobilenet_v2.h"

#include <algorithm>
#include <array>

#include "engine/error.h"
#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/models/inverted_residual.h"
#include "layers/module_walker.h"
#include "layers/pool2d.h"

namespace qat {
namespace {

struct Stage {
  int64_t expand, channels, blocks, stride;
};

constexpr std::array<Stage, 7> kStages{{{1, 16, 1, 1},
                                        {6, 24, 2, 2},
                                        {6, 32, 3, 2},
                                        {6, 64, 4, 2},
                                        {6, 96, 3, 1},
                                        {6, 160, 3, 2},
                                        {6, 320, 1, 1}}};

// torchvision's _make_divisible: the nearest multiple of 8, at least 8, never more than 10% below v.
int64_t make_divisible(double v) {
  constexpr int64_t kDivisor = 8;
  int64_t rounded =
      std::max<int64_t>(kDivisor, static_cast<int64_t>(v + kDivisor / 2.0) / kDivisor * kDivisor);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += kDivisor;
  return rounded;
}

// Re-initializes every conv and linear of the tree as torchvision's MobileNetV2 does (BN starts at 1/0).
void initialize(Module& module) {
  walk_modules(module, [](const ModuleSlot& slot) {
    if (auto* conv = dynamic_cast<Conv2d*>(slot.module.get())) {
      Variable weight = conv->weight();
      const Shape& shape = weight.shape();
      weight.set_data(init::kaiming_normal_fan_out(shape, shape[0] * shape[2] * shape[3]));
      if (Variable bias = conv->bias(); bias.defined()) bias.set_data(Tensor::zeros(bias.shape()));
    } else if (auto* linear = dynamic_cast<Linear*>(slot.module.get())) {
      Variable weight = linear->weight();
      weight.set_data(global_generator().normal_tensor(weight.shape(), 0.0f, 0.01f));
      if (Variable bias = linear->bias(); bias.defined()) bias.set_data(Tensor::zeros(bias.shape()));
    }
    return Walk::descend;
  });
}

}  // namespace

std::shared_ptr<Sequential> mobilenet_v2(const MobileNetV2Options& options) {
  QAT_CHECK(options.width > 0.0 && options.in_channels > 0 && options.num_classes > 0, "mobilenet_v2: width ",
            options.width, ", in_channels ", options.in_channels, " and classes ", options.num_classes,
            " must be positive");
  auto model = std::make_shared<Sequential>();
  int64_t in = make_divisible(32 * options.width);
  model->add("stem",
             conv_bn_relu6({.in = options.in_channels, .out = in, .kernel = 3, .padding = 1, .bias = false}));
  int block = 0;
  for (const Stage& stage : kStages) {
    const int64_t out = make_divisible(static_cast<double>(stage.channels) * options.width);
    for (int64_t i = 0; i < stage.blocks; ++i) {
      model->add("block" + std::to_string(++block),
                 std::make_shared<InvertedResidual>(in, out, i == 0 ? stage.stride : 1, stage.expand));
      in = out;
    }
  }
  const int64_t last = make_divisible(1280 * std::max(1.0, options.width));
  model->add("head", conv_bn_relu6({.in = in, .out = last, .kernel = 1, .bias = false}));
  model->add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model->add("flatten", std::make_shared<Flatten>());
  model->add("dropout", std::make_shared<Dropout>(DropoutOptions{.p = options.dropout}));
  model->add("classifier", std::make_shared<Linear>(LinearOptions{.in = last, .out = options.num_classes}));
  initialize(*model);
  return model;
}

}  // namespace qat
