#include "layers/models/bert.h"

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/models/transformer_layer.h"

namespace qat {
namespace {

void check_ids(const Tensor& ids, int64_t max_len) {
  QAT_CHECK(ids.defined() && ids.dtype() == DType::s32 && ids.ndim() == 2, "Bert: ids ", ids.str(),
            " must be s32 [B, T]");
  QAT_CHECK(ids.dim(1) <= max_len, "Bert: ids ", ids.str(), " are longer than max_len ", max_len);
}

// f32 [B, 1, 1, T] with 0 for tokens and kBertMaskedScore for padding; undefined when nothing is masked.
Tensor additive_mask(const Tensor& ids, const Tensor& mask) {
  if (!mask.defined()) return Tensor();
  QAT_CHECK((mask.dtype() == DType::s32 || mask.dtype() == DType::f32) && mask.shape() == ids.shape(),
            "Bert: attention mask ", mask.str(), " must be s32 or f32 of the ids' shape ", ids.str());
  const Tensor values = mask.to(DType::f32);
  const float* m = values.data<float>();
  const int64_t b = ids.dim(0), t = ids.dim(1);
  Tensor out = Tensor::empty({b, 1, 1, t});
  float* o = out.data<float>();
  bool any = false;
  for (int64_t i = 0; i < b * t; ++i) {
    o[i] = m[i] != 0.0f ? 0.0f : kBertMaskedScore;
    any |= m[i] == 0.0f;
  }
  return any ? out : Tensor();
}

// s32 [B, T]: 1 where the id is not `pad_id`.
Tensor mask_of_padding(const Tensor& ids, int32_t pad_id) {
  Tensor mask = Tensor::empty(ids.shape(), DType::s32);
  const Tensor plain = ids.contiguous();
  const int32_t* id = plain.data<int32_t>();
  int32_t* m = mask.data<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) m[i] = id[i] != pad_id;
  return mask;
}

// Position ids [B, T] (each row 0 .. T − 1): looking positions up per token makes the sum with the token
// embeddings shape-equal, so its backward needs no reduction over the batch.
Tensor positions(int64_t batch, int64_t length) {
  Tensor ids = Tensor::empty({batch, length}, DType::s32);
  int32_t* id = ids.data<int32_t>();
  for (int64_t i = 0; i < batch * length; ++i) id[i] = static_cast<int32_t>(i % length);
  return ids;
}

}  // namespace

Bert::Bert(const BertOptions& options) : options_(options) {
  QAT_CHECK(options.vocab > 0 && options.hidden > 0 && options.layers > 0 && options.max_len > 0 &&
                options.num_classes >= 0,
            "Bert: vocab ", options.vocab, ", hidden ", options.hidden, ", layers ", options.layers,
            " and max_len ", options.max_len, " must be positive and classes ", options.num_classes,
            " not negative");
  QAT_CHECK(options.head == BertHead::mlm || options.num_classes > 0,
            "Bert: the classification head needs num_classes > 0");
  const int64_t hidden = options.hidden;
  register_module("tok",
                  std::make_shared<Embedding>(EmbeddingOptions{.vocab = options.vocab, .dim = hidden}));
  register_module("pos",
                  std::make_shared<Embedding>(EmbeddingOptions{.vocab = options.max_len, .dim = hidden}));
  register_module("norm", std::make_shared<LayerNorm>(LayerNormOptions{.dim = hidden}));
  layers_ = register_module("layers", std::make_shared<Sequential>());
  for (int64_t i = 0; i < options.layers; ++i)
    layers_->add(std::make_shared<TransformerLayer>(TransformerLayerOptions{
        .hidden = hidden, .heads = options.heads, .ffn = options.ffn, .dropout = options.dropout}));
  register_module("mlm_head", std::make_shared<Linear>(LinearOptions{.in = hidden, .out = options.vocab}));
  if (options.num_classes > 0)
    register_module("cls_head",
                    std::make_shared<Linear>(LinearOptions{.in = hidden, .out = options.num_classes}));
}

Variable Bert::forward(const Variable& x) {
  const Tensor& ids = x.data();
  check_ids(ids, options_.max_len);
  const Tensor mask = options_.pad_id >= 0 ? mask_of_padding(ids, options_.pad_id) : Tensor();
  return options_.head == BertHead::mlm ? mlm_logits(ids, mask) : classify(ids, mask);
}

Variable Bert::encode(const Tensor& ids, const Tensor& attention_mask) {
  check_ids(ids, options_.max_len);
  const Tensor mask = additive_mask(ids, attention_mask);
  const Variable embedded =
      add(call_child("tok", Variable(ids)), call_child("pos", Variable(positions(ids.dim(0), ids.dim(1)))));
  Variable x = call_child("norm", embedded);
  for (const auto& [name, layer] : layers_->children()) x = call_masked_child(*layers_, name, x, mask);
  return x;
}

Variable Bert::mlm_logits(const Tensor& ids, const Tensor& attention_mask) {
  return call_child("mlm_head", encode(ids, attention_mask));
}

Variable Bert::classify(const Tensor& ids, const Tensor& attention_mask) {
  QAT_CHECK(options_.num_classes > 0, "Bert: classify needs num_classes > 0 (ids ", ids.str(), ")");
  const Variable hidden = encode(ids, attention_mask);
  const Variable first = reshape(slice(hidden, 1, 0, 1), {hidden.dim(0), options_.hidden});
  return call_child("cls_head", first);
}

std::shared_ptr<Bert> bert_small(int64_t vocab, int64_t num_classes) {
  return std::make_shared<Bert>(BertOptions{.vocab = vocab,
                                            .hidden = 256,
                                            .layers = 4,
                                            .heads = 4,
                                            .ffn = 1024,
                                            .max_len = 128,
                                            .num_classes = num_classes});
}

}  // namespace qat
