#pragma once
// MultiHeadAttention: scaled dot-product self-attention over several heads (Vaswani et al. 2017).
#include "layers/module.h"

namespace qat {

/// Construction options.
struct MultiHeadAttentionOptions {
  int64_t hidden = 0;
  int64_t heads = 0;
};

/// Children: "qkv" (Linear hidden → 3·hidden, the three projections fused), "out" (Linear), and the
/// Identity taps "q_in", "k_in", "v_in", "probs_in" on the inputs of the two attention matmuls.
class MultiHeadAttention : public Module {
 public:
  explicit MultiHeadAttention(const MultiHeadAttentionOptions& options);
  /// Self-attention over x [B, T, hidden] with every position visible.
  Variable forward(const Variable& x) override;
  /// Same with an additive mask broadcastable to [B, heads, T, T] (0 keeps a key, a large negative
  /// value hides it), e.g. [B, 1, 1, T] for padding.
  Variable forward(const Variable& x, const Tensor& additive_mask);

 private:
  MultiHeadAttentionOptions options_;
};

}  // namespace qat
