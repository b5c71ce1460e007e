#include "layers/multi_head_attention.h"

#include <cmath>
#include <memory>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/shape.h"
#include "autograd/ops/softmax.h"
#include "engine/error.h"
#include "engine/kernels/binary.h"
#include "engine/kernels/reorder.h"
#include "layers/identity.h"
#include "layers/linear.h"

namespace qat {
namespace {

// Part `part` (0 = q, 1 = k, 2 = v) of a [B, T, 3·H] projection as plain [B, heads, T, d]: one strided
// copy of that part, whose backward writes into the same columns of a zero gradient.
Variable split_heads(const Variable& qkv, int part, int64_t heads) {
  const Tensor src = qkv.data().contiguous();
  const int64_t b = src.dim(0), t = src.dim(1), d = src.dim(2) / (3 * heads), row = src.dim(2);
  const dnnl::memory::desc view({b, heads, t, d}, dnnl::memory::data_type::f32, {t * row, d, row, 1});
  const int64_t offset = part * heads * d;
  Tensor out = Tensor::empty({b, heads, t, d});
  kernels::reorder(view, src.data<float>() + offset, out.desc(), out.raw());
  return Variable::record("split_heads", std::move(out), {qkv},
                          [view, offset, shape = src.shape()](const Tensor& g) -> std::vector<Tensor> {
                            Tensor grad = Tensor::zeros(shape);
                            const Tensor plain = g.contiguous();
                            kernels::reorder(plain.desc(), plain.raw(), view, grad.data<float>() + offset);
                            return {grad};
                          });
}

// scores + mask, broadcast over heads and queries; the mask is a constant, so the gradient passes through.
Variable add_mask(const Variable& scores, const Tensor& mask) {
  return Variable::record("attention_mask",
                          kernels::binary(dnnl::algorithm::binary_add, scores.data(), mask, "attention_mask"),
                          {scores}, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

// An additive mask broadcasts over heads and, at [.., 1, T], over queries: f32 [B|1, 1, T|1, T].
void check_mask(const Tensor& mask, int64_t b, int64_t t, const Variable& x) {
  if (!mask.defined()) return;
  const bool fits = mask.dtype() == DType::f32 && mask.ndim() == 4 &&
                    (mask.dim(0) == b || mask.dim(0) == 1) && mask.dim(1) == 1 &&
                    (mask.dim(2) == t || mask.dim(2) == 1) && mask.dim(3) == t;
  QAT_CHECK(fits, "MultiHeadAttention: mask ", mask.str(), " must be f32 [", b, " or 1, 1, ", t, " or 1, ", t,
            "] for input ", x.str());
}

}  // namespace

Variable call_masked_child(const Module& parent, const std::string& name, const Variable& x,
                           const Tensor& additive_mask) {
  if (!additive_mask.defined()) return parent.call_child(name, x);
  for (const auto& [child_name, child] : parent.children())
    if (child_name == name) {
      auto* masked = dynamic_cast<MaskedModule*>(child.get());
      QAT_CHECK(masked, "call_masked_child: child '", name, "' does not take an attention mask (mask ",
                additive_mask.str(), ", input ", x.str(), ")");
      return masked->forward(x, additive_mask);
    }
  detail::fail("call_masked_child: no child named '", name, "'");
}

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options) : options_(options) {
  QAT_CHECK(options.hidden > 0 && options.heads > 0 && options.hidden % options.heads == 0,
            "MultiHeadAttention: hidden ", options.hidden, " is not a positive multiple of heads ",
            options.heads);
  register_module("qkv",
                  std::make_shared<Linear>(LinearOptions{.in = options.hidden, .out = 3 * options.hidden}));
  register_module("out",
                  std::make_shared<Linear>(LinearOptions{.in = options.hidden, .out = options.hidden}));
  for (const char* tap : {"q_in", "k_in", "v_in", "probs_in"})
    register_module(tap, std::make_shared<Identity>());
}

Variable MultiHeadAttention::forward(const Variable& x, const Tensor& additive_mask) {
  const int64_t hidden = options_.hidden, heads = options_.heads;
  QAT_CHECK(x.ndim() == 3 && x.dim(2) == hidden, "MultiHeadAttention: input ", x.str(), " must be [B, T, ",
            hidden, "]");
  const int64_t b = x.dim(0), t = x.dim(1);
  check_mask(additive_mask, b, t, x);
  const Variable qkv = call_child("qkv", x);
  const Variable q = call_child("q_in", split_heads(qkv, 0, heads));
  const Variable k = call_child("k_in", split_heads(qkv, 1, heads));
  const Variable v = call_child("v_in", split_heads(qkv, 2, heads));
  // Scaling q (B·T·H elements) is cheaper than scaling the scores (B·heads·T·T).
  const int64_t head_dim = hidden / heads;  // exact: the constructor checks that heads divides hidden
  Variable scores = matmul(q * (1.0f / std::sqrt(static_cast<float>(head_dim))), k, false, true);
  if (additive_mask.defined()) scores = add_mask(scores, additive_mask);
  const Variable probs = call_child("probs_in", softmax(scores, -1));
  const Variable context = permute(matmul(probs, v), {0, 2, 1, 3});
  return call_child("out", reshape(context, {b, t, hidden}));
}

}  // namespace qat
