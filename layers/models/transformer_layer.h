#pragma once
// TransformerLayer: the post-LN encoder layer of BERT, or the pre-LN layer of GPT-2.
#include <cstdint>

#include "layers/multi_head_attention.h"

namespace qat {

/// Construction options.
struct TransformerLayerOptions {
  int64_t hidden = 0;     ///< model width H
  int64_t heads = 0;      ///< attention heads; must divide hidden
  int64_t ffn = 0;        ///< width of the feed-forward block
  float dropout = 0.0f;   ///< dropout after the attention and after the feed-forward block
  bool pre_norm = false;  ///< normalize each block's input (GPT-2) instead of each residual sum (BERT)
};

/// Post-LN: x = n1(x + drop1(attn(x))); x = n2(x + drop2(f2(gelu(f1(x))))). Pre-LN: x = x +
/// drop1(attn(n1(x))); x = x + drop2(f2(gelu(f1(n2(x))))), which leaves the residual path free of
/// normalization. Children "attn" (MultiHeadAttention), "drop1", "n1", "f1", "f2", "drop2", "n2".
class TransformerLayer : public MaskedModule {
 public:
  explicit TransformerLayer(const TransformerLayerOptions& options);
  using MaskedModule::forward;
  /// x [B, T, H] → [B, T, H], the mask passed to the attention.
  Variable forward(const Variable& x, const Tensor& additive_mask) override;
  /// The options it was built with.
  const TransformerLayerOptions& options() const { return options_; }

 private:
  Variable attention(const Variable& x, const Tensor& additive_mask);
  Variable feed_forward(const Variable& x);
  Variable forward_post_norm(const Variable& x, const Tensor& additive_mask);
  Variable forward_pre_norm(const Variable& x, const Tensor& additive_mask);

  TransformerLayerOptions options_;
};

}  // namespace qat
