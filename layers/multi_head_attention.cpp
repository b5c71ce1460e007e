#include "layers/multi_head_attention.h"

#include <cmath>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/shape.h"
#include "autograd/ops/softmax.h"
#include "engine/error.h"
#include "layers/identity.h"
#include "layers/linear.h"

namespace qat {

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options) : options_(options) {
  QAT_CHECK(options.hidden > 0 && options.heads > 0 && options.hidden % options.heads == 0,
            "MultiHeadAttention: hidden ", options.hidden, " must be a positive multiple of heads ",
            options.heads);
  register_module("qkv",
                  std::make_shared<Linear>(LinearOptions{.in = options.hidden, .out = 3 * options.hidden}));
  register_module("out",
                  std::make_shared<Linear>(LinearOptions{.in = options.hidden, .out = options.hidden}));
  for (const char* tap : {"q_in", "k_in", "v_in", "probs_in"})
    register_module(tap, std::make_shared<Identity>());
}

Variable MultiHeadAttention::forward(const Variable& x) { return forward(x, Tensor()); }

Variable MultiHeadAttention::forward(const Variable& x, const Tensor& additive_mask) {
  QAT_CHECK(x.ndim() == 3 && x.dim(2) == options_.hidden, "MultiHeadAttention(hidden ", options_.hidden,
            "): expected input [B, T, ", options_.hidden, "], got ", x.str());
  const int64_t batch = x.dim(0), length = x.dim(1), heads = options_.heads,
                head_dim = options_.hidden / heads;
  // [B, T, 3·hidden] → [3, B, heads, T, head_dim], then one slice per projection.
  const Variable qkv =
      permute(reshape(call_child("qkv", x), {batch, length, 3, heads, head_dim}), {2, 0, 3, 1, 4});
  auto part = [&](int index) {
    return reshape(slice(qkv, 0, index, index + 1), {batch, heads, length, head_dim});
  };
  // The 1/sqrt(d) scale goes on q, the smaller operand of q·kᵀ.
  const Variable q = call_child("q_in", part(0) * (1.0f / std::sqrt(static_cast<float>(head_dim))));
  const Variable k = call_child("k_in", part(1)), v = call_child("v_in", part(2));
  Variable scores = matmul(q, k, false, true);
  if (additive_mask.defined()) scores = scores + Variable(additive_mask);
  const Variable probs = call_child("probs_in", softmax(scores, -1));
  const Variable context = permute(matmul(probs, v), {0, 2, 1, 3});
  return call_child("out", reshape(context, {batch, length, options_.hidden}));
}

}  // namespace qat
