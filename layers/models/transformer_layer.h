#pragma once
// TransformerLayer: one post-LN encoder layer (BERT's): attention and feed-forward, each residual +
// LayerNorm.
#include "layers/module.h"

namespace qat {

/// Construction options.
struct TransformerLayerOptions {
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t ffn = 0;
  float dropout = 0.0f;  ///< after the attention output and after the feed-forward output
};

/// x = n1(x + drop(out(attn(x)))); x = n2(x + drop(f2(gelu(f1(x))))). Children: "attn"
/// (MultiHeadAttention), "drop1", "n1", "f1", "f2", "drop2", "n2".
class TransformerLayer : public Module {
 public:
  explicit TransformerLayer(const TransformerLayerOptions& options);
  /// Every position attends to every other.
  Variable forward(const Variable& x) override;
  /// With an additive attention mask (see MultiHeadAttention).
  Variable forward(const Variable& x, const Tensor& additive_mask);
};

}  // namespace qat
