#include "layers/models/bert.h"

#include <algorithm>

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "engine/random.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/models/transformer_layer.h"

namespace qat {
namespace {

constexpr float kHidden = -1e9f;  // additive mask value: exp underflows to exactly 0

// [B, 1, 1, T] with kHidden at padding positions; undefined when nothing is padded.
Tensor padding_mask(const Tensor& ids, int32_t pad_id) {
  const int64_t batch = ids.dim(0), length = ids.dim(1);
  const int32_t* id = ids.data<int32_t>();
  if (std::find(id, id + ids.numel(), pad_id) == id + ids.numel()) return Tensor();
  Tensor mask = Tensor::empty({batch, 1, 1, length});
  float* m = mask.data<float>();
  for (int64_t i = 0; i < ids.numel(); ++i) m[i] = id[i] == pad_id ? kHidden : 0.0f;
  return mask;
}

Tensor positions(int64_t length) {
  Tensor p = Tensor::empty({length}, DType::s32);
  for (int64_t i = 0; i < length; ++i) p.data<int32_t>()[i] = static_cast<int32_t>(i);
  return p;
}

// BERT's initialization: weights N(0, 0.02), biases 0; LayerNorm keeps 1 and 0.
void initialize(Module& model) {
  for (auto& [name, param] : model.named_parameters()) {
    if (name.find(".n1.") != std::string::npos || name.find(".n2.") != std::string::npos ||
        name.rfind("norm.", 0) == 0)
      continue;
    param.set_data(param.ndim() == 2 ? global_generator().normal_tensor(param.shape(), 0.0f, 0.02f)
                                     : Tensor::zeros(param.shape()));
  }
}

}  // namespace

Bert::Bert(const BertOptions& o) : options_(o) {
  QAT_CHECK(o.vocab > 0 && o.layers > 0 && o.max_length > 0, "Bert: vocab ", o.vocab, ", layers ", o.layers,
            " and max_length ", o.max_length, " must be positive");
  register_module("tok", std::make_shared<Embedding>(EmbeddingOptions{.vocab = o.vocab, .dim = o.hidden}));
  register_module("pos",
                  std::make_shared<Embedding>(EmbeddingOptions{.vocab = o.max_length, .dim = o.hidden}));
  register_module("norm", std::make_shared<LayerNorm>(LayerNormOptions{.dim = o.hidden}));
  register_module("emb_drop", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
  for (int64_t l = 0; l < o.layers; ++l)
    register_module("layers." + std::to_string(l),
                    std::make_shared<TransformerLayer>(TransformerLayerOptions{
                        .hidden = o.hidden, .heads = o.heads, .ffn = o.ffn, .dropout = o.dropout}));
  if (o.num_classes == 0) {
    register_module("mlm_head", std::make_shared<Linear>(LinearOptions{.in = o.hidden, .out = o.vocab}));
  } else {
    register_module("pooler", std::make_shared<Linear>(LinearOptions{.in = o.hidden, .out = o.hidden}));
    register_module("cls_drop", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
    register_module("classifier",
                    std::make_shared<Linear>(LinearOptions{.in = o.hidden, .out = o.num_classes}));
  }
  initialize(*this);
}

Variable Bert::encode(const Tensor& ids) {
  QAT_CHECK(ids.ndim() == 2 && ids.dtype() == DType::s32, "Bert: expected s32 token ids [B, T], got ",
            ids.str());
  QAT_CHECK(ids.dim(1) <= options_.max_length, "Bert: sequence length ", ids.dim(1), " exceeds max_length ",
            options_.max_length);
  const Variable tokens = call_child("tok", Variable(ids));
  const Variable where = call_child("pos", Variable(positions(ids.dim(1))));
  Variable x = call_child("emb_drop", call_child("norm", tokens + where));
  const Tensor mask = padding_mask(ids, options_.pad_id);
  for (int64_t l = 0; l < options_.layers; ++l) {
    const std::string name = "layers." + std::to_string(l);
    for (const auto& [child, module] : children()) {
      if (child != name) continue;
      auto* layer = dynamic_cast<TransformerLayer*>(module.get());
      QAT_CHECK(layer != nullptr, "Bert: child '", name, "' is not a TransformerLayer");
      x = layer->forward(x, mask);
    }
  }
  return x;
}

Variable Bert::forward(const Variable& x) {
  const Variable hidden = encode(x.data());
  if (options_.num_classes == 0) return call_child("mlm_head", hidden);
  const Variable first = reshape(slice(hidden, 1, 0, 1), {hidden.dim(0), options_.hidden});
  return call_child("classifier", call_child("cls_drop", tanh(call_child("pooler", first))));
}

BertOptions bert_small(int64_t vocab, int64_t num_classes) {
  return {.vocab = vocab,
          .hidden = 256,
          .layers = 4,
          .heads = 4,
          .ffn = 1024,
          .max_length = 128,
          .dropout = 0.1f,
          .num_classes = num_classes,
          .pad_id = 0};
}

}  // namespace qat
