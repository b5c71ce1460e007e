#include "layers/models/transformer_layer.h"

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "layers/dropout.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/multi_head_attention.h"

namespace qat {

TransformerLayer::TransformerLayer(const TransformerLayerOptions& o) {
  register_module("attn", std::make_shared<MultiHeadAttention>(
                              MultiHeadAttentionOptions{.hidden = o.hidden, .heads = o.heads}));
  register_module("drop1", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
  register_module("n1", std::make_shared<LayerNorm>(LayerNormOptions{.dim = o.hidden}));
  register_module("f1", std::make_shared<Linear>(LinearOptions{.in = o.hidden, .out = o.ffn}));
  register_module("f2", std::make_shared<Linear>(LinearOptions{.in = o.ffn, .out = o.hidden}));
  register_module("drop2", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
  register_module("n2", std::make_shared<LayerNorm>(LayerNormOptions{.dim = o.hidden}));
}

Variable TransformerLayer::forward(const Variable& x) { return forward(x, Tensor()); }

Variable TransformerLayer::forward(const Variable& x, const Tensor& additive_mask) {
  // The attention takes a mask, which call_child cannot pass; decorators wrap its Linears and taps instead.
  auto* attention = dynamic_cast<MultiHeadAttention*>(children().front().second.get());
  QAT_CHECK(attention != nullptr, "TransformerLayer: child 'attn' is not a MultiHeadAttention");
  const Variable attended = call_child("drop1", attention->forward(x, additive_mask));
  const Variable h = call_child("n1", x + attended);
  const Variable ffn = call_child("drop2", call_child("f2", gelu(call_child("f1", h))));
  return call_child("n2", h + ffn);
}

}  // namespace qat
