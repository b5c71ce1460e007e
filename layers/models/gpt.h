#pragma once
// Gpt: a decoder-only causal language model on the transformer stack Bert uses, in GPT-2's pre-LN
// arrangement, with a head tied to the token embedding.
#include <cstdint>
#include <memory>
#include <string>

#include "layers/models/transformer_model.h"

namespace qat {

/// The shared stack ("tok", "pos", "norm", "layers"; no parameters of its own) with pre-LN layers whatever
/// options.pre_norm says: post-LN's normalized residual path trains far slower from scratch (Xiong et
/// al. 2020). Position t attends to positions ≤ t (and never to padding); logits = norm(h)·Eᵀ with E the
/// token embedding "tok.weight" (the tied head of Press & Wolf 2017, after GPT-2's final LayerNorm). Both
/// embedding tables start at N(0, 0.02²), GPT-2's initialization (Radford et al. 2019), instead of
/// Embedding's N(0, 1): with a tied head that keeps the first logits near 0 and lets AdamW reshape them
/// within tens of steps.
class Gpt : public TransformerModel {
 public:
  explicit Gpt(const TransformerModelOptions& options);
  /// Next-token logits [B, T, vocab] of s32 ids [B, T].
  Variable lm_logits(const Tensor& ids) { return forward(Variable(ids)); }
  /// The causal mask [1, 1, T, T], merged with the padding of options().pad_id into [B, 1, T, T] when the
  /// batch has padding.
  Tensor attention_mask(const Tensor& ids) const override;
  /// The final LayerNorm and the tied head on the last layer's hidden states [B, T, H]: [B, T, vocab].
  Variable head(const Variable& hidden) override;
  std::string head_child() const override { return "tok"; }
  /// The options it was built with.
  const TransformerModelOptions& options() const { return stack_options(); }
};

/// f32 [1, 1, T, T]: 0 where key ≤ query, kBertMaskedScore where the key is in the future.
Tensor causal_mask(int64_t length);

/// BERT-small's sizes: 4 layers, hidden 256, 4 heads, FFN 1024, max_len 128, no dropout.
std::shared_ptr<Gpt> gpt_small(int64_t vocab);

}  // namespace qat
