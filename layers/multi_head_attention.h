#pragma once
// MultiHeadAttention: self-attention with a fused q/k/v projection, and MaskedModule, the interface of
// the modules that pass an attention mask down to it.
#include <cstdint>
#include <string>

#include "layers/module.h"

namespace qat {

/// A module whose forward can also take an additive attention mask.
class MaskedModule : public Module {
 public:
  /// forward(x, undefined mask): every position attends to every position.
  Variable forward(const Variable& x) override { return forward(x, Tensor()); }
  /// The output with `additive_mask`, f32 [B|1, 1, T|1, T] (0 for keys to attend to, a large negative
  /// number for keys to ignore; [.., 1, T] applies to every query, [.., T, T] per query — a causal mask)
  /// added to the attention scores; undefined = no mask.
  virtual Variable forward(const Variable& x, const Tensor& additive_mask) = 0;
};

/// Runs the direct child `name` of `parent` with the mask; with an undefined mask this is
/// call_child(name, x), so any replacement works; with a mask the child must be a MaskedModule.
Variable call_masked_child(const Module& parent, const std::string& name, const Variable& x,
                           const Tensor& additive_mask);

/// Construction options.
struct MultiHeadAttentionOptions {
  int64_t hidden = 0;  ///< model width H
  int64_t heads = 0;   ///< number of heads; must divide hidden
};

/// out(softmax(q·kᵀ/sqrt(d) + mask)·v) per head, with q, k, v from the fused Linear "qkv" [H → 3H]
/// (columns q | k | v, each split into heads of d = H/heads). Identity children "q_in", "k_in",
/// "v_in" and "probs_in" see the operands of the two attention products, so quantizers can replace them.
class MultiHeadAttention : public MaskedModule {
 public:
  explicit MultiHeadAttention(const MultiHeadAttentionOptions& options);
  using MaskedModule::forward;
  /// Self-attention of x [B, T, H] → [B, T, H].
  Variable forward(const Variable& x, const Tensor& additive_mask) override;
  /// The options it was built with.
  const MultiHeadAttentionOptions& options() const { return options_; }

 private:
  MultiHeadAttentionOptions options_;
};

}  // namespace qat
