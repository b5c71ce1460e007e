#pragma once
// Bert: a BERT-style encoder (token + position embeddings, post-LN transformer layers) with an MLM head
// and an optional classification head.
#include <cstdint>
#include <memory>
#include <string>

#include "layers/models/transformer_model.h"

namespace qat {

/// Which head forward() runs.
enum class BertHead { mlm, classify };

/// Construction options.
struct BertOptions {
  TransformerModelOptions stack;  ///< the shared stack (always post-LN: stack.pre_norm is ignored)
  int64_t num_classes = 0;        ///< > 0 adds the classification head "cls_head"
  BertHead head = BertHead::mlm;  ///< what forward() returns
};

/// The shared stack ("tok", "pos", "norm", "layers"), then "mlm_head" (Linear H → vocab) and, with
/// classes, "cls_head" (Linear H → classes). Attention masks are s32 or f32 [B, T], nonzero for tokens
/// and 0 for padding; undefined = all tokens.
class Bert : public TransformerModel {
 public:
  explicit Bert(const BertOptions& options);
  /// Hidden states [B, T, H] of s32 ids [B, T].
  Variable encode(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// Masked-language-model logits [B, T, vocab].
  Variable mlm_logits(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// Class logits [B, classes] from the first token's hidden state.
  Variable classify(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// The padding mask of options().stack.pad_id, [B, 1, 1, T].
  Tensor attention_mask(const Tensor& ids) const override;
  /// mlm_head on every position, or cls_head on the first one (per options().head).
  Variable head(const Variable& hidden) override;
  std::string head_child() const override;
  /// The options it was built with.
  const BertOptions& options() const { return options_; }

 private:
  Variable classify_hidden(const Variable& hidden);

  BertOptions options_;
};

/// 4 layers, hidden 256, 4 heads, FFN 1024, max_len 128, no dropout.
std::shared_ptr<Bert> bert_small(int64_t vocab, int64_t num_classes);

}  // namespace qat
