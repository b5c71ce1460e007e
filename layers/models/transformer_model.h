#pragma once
// TransformerModel: the embeddings and transformer stack that Bert (post-LN) and Gpt (pre-LN) share; each
// model adds its attention mask and its head.
#include <cstdint>
#include <memory>

#include "layers/module.h"
#include "layers/sequential.h"

namespace qat {

/// The attention-score offset of keys to ignore: exp underflows to exactly 0 after softmax subtracts the max.
inline constexpr float kBertMaskedScore = -1e9f;

/// Construction options of the shared stack.
struct TransformerModelOptions {
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t ffn = 0;
  int64_t max_len = 0;    ///< longest sequence (rows of the position table)
  float dropout = 0.0f;   ///< in every layer, after the attention output and after the feed-forward block
  int32_t pad_id = -1;    ///< forward() masks keys with this id (−1: no padding)
  bool pre_norm = false;  ///< pre-LN layers; "norm" then belongs to the head instead of the embeddings
};

/// Children: "tok" and "pos" (Embedding), "norm" (LayerNorm), "layers" (Sequential of TransformerLayer
/// "0", "1", …); derived models register their heads after these. forward(ids) =
/// head(encode(ids, attention_mask(ids))). Post-LN stacks normalize the embeddings with "norm"; pre-LN
/// stacks leave them as they are and their head normalizes the last layer's output with it.
class TransformerModel : public Module {
 public:
  explicit TransformerModel(const TransformerModelOptions& options);
  /// `x` holds s32 ids [B, T]; returns the head's output under the model's own mask.
  Variable forward(const Variable& x) override;
  /// norm(tok(ids) + pos(positions)) (post-LN) or tok(ids) + pos(positions) (pre-LN): [B, T, H] of s32
  /// ids [B, T].
  Variable embed(const Tensor& ids);
  /// Hidden states [B, T, H] of s32 ids [B, T] through every layer, under an additive mask
  /// [B|1, 1, 1|T, T] (undefined: everything attends to everything).
  Variable encode_masked(const Tensor& ids, const Tensor& additive_mask);
  /// Layer `index` of the stack on hidden states [B, T, H].
  Variable run_layer(int64_t index, const Variable& x, const Tensor& additive_mask);
  /// The additive mask forward() uses for `ids` (padding, causality); undefined = none.
  virtual Tensor attention_mask(const Tensor& ids) const = 0;
  /// The head on the last layer's hidden states [B, T, H].
  virtual Variable head(const Variable& hidden) = 0;
  /// The name of the child the head runs through (its quantizable layer), or of "tok" for a tied head.
  virtual std::string head_child() const = 0;
  /// The options of the shared stack.
  const TransformerModelOptions& stack_options() const { return stack_; }

 private:
  TransformerModelOptions stack_;
  std::shared_ptr<Sequential> layers_;  // the container only: its layers are always looked up by name
};

/// QAT_CHECKs that `ids` are s32 [B, T] with T ≤ max_len; `who` names the model in the message.
void check_token_ids(const Tensor& ids, int64_t max_len, const char* who);
/// s32 [B, T]: 1 where the id is not `pad_id`.
Tensor mask_of_padding(const Tensor& ids, int32_t pad_id);
/// f32 [B, 1, 1, T]: 0 where `mask` (s32 or f32 [B, T]) is nonzero, kBertMaskedScore where it is 0;
/// undefined when `mask` is undefined or masks nothing; `who` names the model in errors.
Tensor additive_padding_mask(const Tensor& ids, const Tensor& mask, const char* who);

}  // namespace qat
