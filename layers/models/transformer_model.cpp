#include "layers/models/transformer_model.h"

#include <string>

#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/models/transformer_layer.h"

namespace qat {
namespace {

// Position ids [B, T] (each row 0 .. T − 1): looking positions up per token makes the sum with the token
// embeddings shape-equal, so its backward needs no reduction over the batch.
Tensor positions(int64_t batch, int64_t length) {
  Tensor ids = Tensor::empty({batch, length}, DType::s32);
  int32_t* id = ids.data<int32_t>();
  for (int64_t i = 0; i < batch * length; ++i) id[i] = static_cast<int32_t>(i % length);
  return ids;
}

}  // namespace

void check_token_ids(const Tensor& ids, int64_t max_len, const char* who) {
  QAT_CHECK(ids.defined() && ids.dtype() == DType::s32 && ids.ndim() == 2, who, ": ids ", ids.str(),
            " must be s32 [B, T]");
  QAT_CHECK(ids.dim(1) <= max_len, who, ": ids ", ids.str(), " are longer than max_len ", max_len);
}

Tensor mask_of_padding(const Tensor& ids, int32_t pad_id) {
  Tensor mask = Tensor::empty(ids.shape(), DType::s32);
  const Tensor plain = ids.contiguous();
  const int32_t* id = plain.data<int32_t>();
  int32_t* m = mask.data<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) m[i] = id[i] != pad_id;
  return mask;
}

Tensor additive_padding_mask(const Tensor& ids, const Tensor& mask, const char* who) {
  if (!mask.defined()) return Tensor();
  QAT_CHECK((mask.dtype() == DType::s32 || mask.dtype() == DType::f32) && mask.shape() == ids.shape(), who,
            ": attention mask ", mask.str(), " must be s32 or f32 of the ids' shape ", ids.str());
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

TransformerModel::TransformerModel(const TransformerModelOptions& options) : stack_(options) {
  QAT_CHECK(options.vocab > 0 && options.hidden > 0 && options.layers > 0 && options.max_len > 0,
            "TransformerModel: vocab ", options.vocab, ", hidden ", options.hidden, ", layers ",
            options.layers, " and max_len ", options.max_len, " must be positive");
  const int64_t hidden = options.hidden;
  register_module("tok",
                  std::make_shared<Embedding>(EmbeddingOptions{.vocab = options.vocab, .dim = hidden}));
  register_module("pos",
                  std::make_shared<Embedding>(EmbeddingOptions{.vocab = options.max_len, .dim = hidden}));
  register_module("norm", std::make_shared<LayerNorm>(LayerNormOptions{.dim = hidden}));
  layers_ = register_module("layers", std::make_shared<Sequential>());
  for (int64_t i = 0; i < options.layers; ++i)
    layers_->add(std::make_shared<TransformerLayer>(TransformerLayerOptions{.hidden = hidden,
                                                                            .heads = options.heads,
                                                                            .ffn = options.ffn,
                                                                            .dropout = options.dropout,
                                                                            .pre_norm = options.pre_norm}));
}

Variable TransformerModel::forward(const Variable& x) {
  const Tensor& ids = x.data();
  check_token_ids(ids, stack_.max_len, "TransformerModel");
  return head(encode_masked(ids, attention_mask(ids)));
}

Variable TransformerModel::embed(const Tensor& ids) {
  check_token_ids(ids, stack_.max_len, "TransformerModel");
  const Variable embedded =
      add(call_child("tok", Variable(ids)), call_child("pos", Variable(positions(ids.dim(0), ids.dim(1)))));
  return stack_.pre_norm ? embedded : call_child("norm", embedded);
}

Variable TransformerModel::encode_masked(const Tensor& ids, const Tensor& additive_mask) {
  Variable x = embed(ids);
  for (int64_t i = 0; i < stack_.layers; ++i) x = run_layer(i, x, additive_mask);
  return x;
}

Variable TransformerModel::run_layer(int64_t index, const Variable& x, const Tensor& additive_mask) {
  QAT_CHECK(index >= 0 && index < stack_.layers, "TransformerModel: no layer ", index, " of ", stack_.layers);
  return call_masked_child(*layers_, std::to_string(index), x, additive_mask);
}

}  // namespace qat
