#include "layers/models/transformer_layer.h"

#include <memory>

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "layers/dropout.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"

namespace qat {

TransformerLayer::TransformerLayer(const TransformerLayerOptions& options) : options_(options) {
  QAT_CHECK(options.ffn > 0, "TransformerLayer: ffn width ", options.ffn, " must be positive (hidden ",
            options.hidden, ")");
  const int64_t hidden = options.hidden;
  register_module("attn", std::make_shared<MultiHeadAttention>(
                              MultiHeadAttentionOptions{.hidden = hidden, .heads = options.heads}));
  register_module("drop1", std::make_shared<Dropout>(DropoutOptions{.p = options.dropout}));
  register_module("n1", std::make_shared<LayerNorm>(LayerNormOptions{.dim = hidden}));
  register_module("f1", std::make_shared<Linear>(LinearOptions{.in = hidden, .out = options.ffn}));
  register_module("f2", std::make_shared<Linear>(LinearOptions{.in = options.ffn, .out = hidden}));
  register_module("drop2", std::make_shared<Dropout>(DropoutOptions{.p = options.dropout}));
  register_module("n2", std::make_shared<LayerNorm>(LayerNormOptions{.dim = hidden}));
}

Variable TransformerLayer::forward(const Variable& x, const Tensor& additive_mask) {
  return options_.pre_norm ? forward_pre_norm(x, additive_mask) : forward_post_norm(x, additive_mask);
}

Variable TransformerLayer::attention(const Variable& x, const Tensor& additive_mask) {
  return call_child("drop1", call_masked_child(*this, "attn", x, additive_mask));
}

Variable TransformerLayer::feed_forward(const Variable& x) {
  return call_child("drop2", call_child("f2", gelu(call_child("f1", x))));
}

Variable TransformerLayer::forward_post_norm(const Variable& x, const Tensor& additive_mask) {
  const Variable y = call_child("n1", x + attention(x, additive_mask));
  return call_child("n2", y + feed_forward(y));
}

Variable TransformerLayer::forward_pre_norm(const Variable& x, const Tensor& additive_mask) {
  const Variable y = x + attention(call_child("n1", x), additive_mask);
  return y + feed_forward(call_child("n2", y));
}

}  // namespace qat
