#pragma once
// Bert: a BERT encoder (Devlin et al. 2019) with a masked-LM head or a sequence-classification head.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// Construction options.
struct BertOptions {
  int64_t vocab = 0;
  int64_t hidden = 256;
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t ffn = 1024;
  int64_t max_length = 128;
  float dropout = 0.1f;
  int64_t num_classes = 0;  ///< 0: masked-LM head (logits over the vocabulary per position)
  int32_t pad_id = 0;       ///< padding positions are hidden from attention
};

/// x = norm(tok(ids) + pos(0..T−1)), N TransformerLayers, then the head: "mlm_head" (Linear hidden →
/// vocab, per position) or "pooler" (Linear + tanh on the first token, [CLS]) and "classifier".
/// Children: "tok", "pos", "norm", "emb_drop", "layers.0" … "layers.N−1", then the head's.
class Bert : public Module {
 public:
  explicit Bert(const BertOptions& options);
  /// `x` holds s32 token ids [B, T]; returns MLM logits [B, T, vocab] or class logits [B, classes].
  Variable forward(const Variable& x) override;
  /// The final hidden states [B, T, hidden].
  Variable encode(const Tensor& ids);
  /// The options it was built with.
  const BertOptions& options() const { return options_; }

 private:
  BertOptions options_;
};

/// BERT-small: 4 layers, hidden 256, 4 heads, FFN 1024, sequences up to 128.
BertOptions bert_small(int64_t vocab, int64_t num_classes);

}  // namespace qat
