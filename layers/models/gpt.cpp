#include "layers/models/gpt.h"

#include <algorithm>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"

namespace qat {

namespace {

constexpr float kEmbeddingStd = 0.02f;  // GPT-2's initializer range

TransformerModelOptions with_pre_norm(TransformerModelOptions options) {
  options.pre_norm = true;
  return options;
}

}  // namespace

Gpt::Gpt(const TransformerModelOptions& options) : TransformerModel(with_pre_norm(options)) {
  for (const char* table : {"tok", "pos"}) {
    const Tensor& w = child_of(*this, table, table, "Gpt").named_parameters().front().second.data();
    float* v = w.data<float>();
    for (int64_t i = 0; i < w.numel(); ++i) v[i] *= kEmbeddingStd;
  }
}

Tensor causal_mask(int64_t length) {
  Tensor mask = Tensor::empty({1, 1, length, length});
  float* m = mask.data<float>();
  for (int64_t q = 0; q < length; ++q)
    for (int64_t k = 0; k < length; ++k) m[q * length + k] = k > q ? kBertMaskedScore : 0.0f;
  return mask;
}

Tensor Gpt::attention_mask(const Tensor& ids) const {
  const int64_t t = ids.dim(1);
  Tensor causal = causal_mask(t);
  const int32_t pad = options().pad_id;
  const Tensor padding = pad < 0 ? Tensor() : additive_padding_mask(ids, mask_of_padding(ids, pad), "Gpt");
  if (!padding.defined()) return causal;
  const int64_t b = ids.dim(0);
  Tensor merged = Tensor::empty({b, 1, t, t});
  const float* c = causal.data<float>();
  const float* p = padding.data<float>();
  float* m = merged.data<float>();
  for (int64_t i = 0; i < b; ++i)
    for (int64_t q = 0; q < t; ++q)
      for (int64_t k = 0; k < t; ++k) m[(i * t + q) * t + k] = std::min(c[q * t + k], p[i * t + k]);
  return merged;
}

Variable Gpt::head(const Variable& hidden) {
  QAT_CHECK(hidden.ndim() == 3 && hidden.dim(2) == options().hidden, "Gpt: hidden states ", hidden.str(),
            " must be [B, T, ", options().hidden, "]");
  const Module& tok = child_of(*this, "tok", "tok", "Gpt");
  const Variable table = tok.named_parameters().front().second;  // "weight" [vocab, H]
  const int64_t b = hidden.dim(0), t = hidden.dim(1), h = hidden.dim(2);
  const Variable normalized = call_child("norm", reshape(hidden, {b * t, h}));
  return reshape(matmul(normalized, table, false, true), {b, t, options().vocab});
}

std::shared_ptr<Gpt> gpt_small(int64_t vocab) {
  return std::make_shared<Gpt>(TransformerModelOptions{
      .vocab = vocab, .hidden = 256, .layers = 4, .heads = 4, .ffn = 1024, .max_len = 128});
}

}  // namespace qat
