#include "experiments/model_factory.h"

#include "datasets/text/tokenizer.h"
#include "engine/error.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/models/bag_of_words.h"
#include "layers/models/bert.h"
#include "layers/models/gpt.h"
#include "layers/models/mobilenet_v2.h"
#include "layers/models/resnet.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"

namespace qat {
namespace {

// Two conv-BN-ReLU-maxpool stages and a linear classifier: the quick demo network for 28x28 inputs.
std::shared_ptr<Module> convnet(const config::ModelConfig& c) {
  const int64_t w = c.width();
  auto model = std::make_shared<Sequential>();
  int64_t in = c.in_channels();
  for (const int64_t out : {w, 2 * w}) {
    model->add(std::make_shared<Conv2d>(
        Conv2dOptions{.in = in, .out = out, .kernel = 3, .padding = 1, .bias = false}));
    model->add(std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out, .fuse_relu = true}));
    model->add(std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::max, .kernel = 2, .stride = 2}));
    in = out;
  }
  model->add(std::make_shared<Flatten>());
  model->add(std::make_shared<Linear>(LinearOptions{.in = in * 7 * 7, .out = c.num_classes()}));
  return model;
}

// The shared transformer stack of bert and gpt; keys holding the tokenizer's padding id are masked.
TransformerModelOptions transformer_stack(const config::ModelConfig& c) {
  return {.vocab = c.vocab_size(),
          .hidden = c.hidden(),
          .layers = c.layers(),
          .heads = c.heads(),
          .ffn = c.ffn(),
          .max_len = c.max_length(),
          .dropout = c.dropout(),
          .pad_id = SpecialTokens::kPad};
}

}  // namespace

std::shared_ptr<Module> build_model(const config::ModelConfig& config) {
  if (config.arch() == "convnet") return convnet(config);
  if (config.arch() == "resnet20") return resnet20(config.in_channels(), config.num_classes());
  if (config.arch() == "resnet18") return resnet18(config.in_channels(), config.num_classes());
  if (config.arch() == "mobilenetv2")
    return mobilenet_v2({.width = config.width_multiplier(),
                         .in_channels = config.in_channels(),
                         .num_classes = config.num_classes(),
                         .dropout = config.dropout()});
  if (config.arch() == "bert") {
    QAT_CHECK(config.head() == "mlm" || config.head() == "classify", "model.head: unknown head '",
              config.head(), "' (known: mlm, classify)");
    return std::make_shared<Bert>(
        BertOptions{.stack = transformer_stack(config),
                    .num_classes = config.head() == "mlm" ? 0 : config.num_classes(),
                    .head = config.head() == "mlm" ? BertHead::mlm : BertHead::classify});
  }
  if (config.arch() == "gpt") return std::make_shared<Gpt>(transformer_stack(config));
  if (config.arch() == "bow")
    return std::make_shared<BagOfWords>(BagOfWordsOptions{
        .vocab = config.vocab_size(), .num_classes = config.num_classes(), .pad_id = SpecialTokens::kPad});
  detail::fail("model.arch: unknown architecture '", config.arch(),
               "' (known: convnet, resnet20, resnet18, mobilenetv2, bert, gpt, bow)");
}

}  // namespace qat
