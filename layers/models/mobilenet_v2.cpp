#include "layers/models/mobilenet_v2.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/models/inverted_residual.h"
#include "layers/pool2d.h"

namespace qat {
namespace {

struct Stage {
  int64_t expand, channels, blocks, stride;
};

// The (t, c, n, s) table of the paper.
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

// torchvision's _make_divisible: nearest multiple of 8, never more than 10% below the scaled value.
int64_t round_channels(float channels) {
  const auto rounded = std::max<int64_t>(8, (static_cast<int64_t>(channels + 4.0f) / 8) * 8);
  return rounded < 0.9f * channels ? rounded + 8 : rounded;
}

std::shared_ptr<Sequential> stem_block(int64_t in, int64_t out, int64_t kernel) {
  auto block = std::make_shared<Sequential>();
  block->add("conv", std::make_shared<Conv2d>(Conv2dOptions{
                         .in = in, .out = out, .kernel = kernel, .padding = kernel / 2, .bias = false}));
  block->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
  block->add("act", std::make_shared<Activation>(ActivationKind::relu6));
  return block;
}

// torchvision's init: convs N(0, sqrt(2/fan_out)), linear N(0, 0.01), biases 0 (BN keeps 1 and 0).
void initialize(Module& model) {
  for (auto& [name, param] : model.named_parameters()) {
    const bool weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (param.ndim() == 4 && weight)
      param.set_data(init::kaiming_normal_fan_out(param.shape(), param.dim(0) * param.dim(2) * param.dim(3)));
    else if (param.ndim() == 2 && weight)
      param.set_data(global_generator().normal_tensor(param.shape(), 0.0f, 0.01f));
    else if (name.find("classifier") != std::string::npos)
      param.set_data(Tensor::zeros(param.shape()));
  }
}

}  // namespace

std::shared_ptr<Sequential> mobilenet_v2(const MobileNetV2Options& options) {
  QAT_CHECK(options.in_channels > 0 && options.num_classes > 0 && options.width_multiplier > 0.0f,
            "mobilenet_v2: in_channels ", options.in_channels, ", num_classes ", options.num_classes,
            " and width_multiplier ", options.width_multiplier, " must be positive");
  const float width = options.width_multiplier;
  auto model = std::make_shared<Sequential>();
  int64_t in = round_channels(32 * width);
  model->add("stem", stem_block(options.in_channels, in, 3));
  int index = 0;
  for (const Stage& stage : kStages) {
    const int64_t out = round_channels(static_cast<float>(stage.channels) * width);
    for (int64_t b = 0; b < stage.blocks; ++b) {
      model->add("block" + std::to_string(index++),
                 std::make_shared<InvertedResidual>(in, out, b == 0 ? stage.stride : 1, stage.expand));
      in = out;
    }
  }
  const int64_t last = round_channels(1280 * std::max(1.0f, width));
  model->add("head", stem_block(in, last, 1));
  model->add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model->add("flatten", std::make_shared<Flatten>());
  model->add("dropout", std::make_shared<Dropout>(DropoutOptions{.p = options.dropout}));
  model->add("classifier", std::make_shared<Linear>(LinearOptions{.in = last, .out = options.num_classes}));
  initialize(*model);
  return model;
}

}  // namespace qat
