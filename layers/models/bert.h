#pragma once
// Bert: a BERT-style encoder (token + position embeddings, post-LN transformer layers) with an MLM head
// and an optional classification head.
#include <cstdint>
#include <memory>

#include "layers/module.h"
#include "layers/sequential.h"

namespace qat {

/// The attention-score offset of keys to ignore: exp underflows to exactly 0 after softmax subtracts the max.
inline constexpr float kBertMaskedScore = -1e9f;

/// Which head forward() runs.
enum class BertHead { mlm, classify };

/// Construction options.
struct BertOptions {
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t ffn = 0;
  int64_t max_len = 0;      ///< longest sequence (rows of the position table)
  float dropout = 0.0f;     ///< in every layer, after the attention output and after the feed-forward block
  int64_t num_classes = 0;  ///< > 0 adds the classification head "cls_head"
  BertHead head = BertHead::mlm;  ///< what forward() returns
  int32_t pad_id = -1;            ///< forward() masks keys with this id (−1: no padding)
};

/// Children: "tok" and "pos" (Embedding), "norm" (LayerNorm), "layers" (Sequential of TransformerLayer
/// "0", "1", …), "mlm_head" (Linear H → vocab) and, with classes, "cls_head" (Linear H → classes).
/// Attention masks are s32 or f32 [B, T], nonzero for tokens and 0 for padding; undefined = all tokens.
class Bert : public Module {
 public:
  explicit Bert(const BertOptions& options);
  /// `x` holds s32 ids [B, T]; returns mlm_logits or classify (per options().head) with the mask of
  /// options().pad_id.
  Variable forward(const Variable& x) override;
  /// Hidden states [B, T, H] of s32 ids [B, T].
  Variable encode(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// Masked-language-model logits [B, T, vocab].
  Variable mlm_logits(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// Class logits [B, classes] from the first token's hidden state.
  Variable classify(const Tensor& ids, const Tensor& attention_mask = Tensor());
  /// The options it was built with.
  const BertOptions& options() const { return options_; }

 private:
  BertOptions options_;
  std::shared_ptr<Sequential> layers_;  // the container only: its layers are always looked up by name
};

/// 4 layers, hidden 256, 4 heads, FFN 1024, max_len 128, no dropout.
std::shared_ptr<Bert> bert_small(int64_t vocab, int64_t num_classes);

}  // namespace qat
