// Gpt: the causal mask hides the future, padding merges with it, masks broadcast in MultiHeadAttention,
// gradient checks of masked attention and of the tied head (both of its paths into the embedding table).
#include "layers/models/gpt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "engine/random.h"
#include "layers/linear.h"
#include "layers/multi_head_attention.h"
#include "tests/test_util.h"

namespace qat {
namespace {

constexpr int64_t kVocab = 20, kHidden = 16, kBatch = 2, kLength = 6;

TransformerModelOptions tiny(int32_t pad_id = -1, int64_t layers = 2) {
  return {.vocab = kVocab,
          .hidden = kHidden,
          .layers = layers,
          .heads = 2,
          .ffn = 32,
          .max_len = 8,
          .dropout = 0.0f,
          .pad_id = pad_id};
}

Tensor random_ids(uint64_t seed, int64_t batch = kBatch, int64_t length = kLength) {
  Generator gen(seed);
  Tensor ids = Tensor::empty({batch, length}, DType::s32);
  for (int64_t i = 0; i < batch * length; ++i)
    ids.data<int32_t>()[i] = static_cast<int32_t>(1 + gen.below(kVocab - 1));
  return ids;
}

// Largest |a − b| over positions [from, to) of logits [B, T, V].
double max_diff(const Tensor& a, const Tensor& b, int64_t from, int64_t to) {
  const int64_t t = a.dim(1), v = a.dim(2);
  double worst = 0.0;
  for (int64_t i = 0; i < a.dim(0); ++i)
    for (int64_t p = from; p < to; ++p)
      for (int64_t c = 0; c < v; ++c) {
        const int64_t at = (i * t + p) * v + c;
        worst = std::max(worst, std::abs(double(a.data<float>()[at]) - b.data<float>()[at]));
      }
  return worst;
}

TEST(Gpt, CausalMaskHidesTheFuture) {
  manual_seed(1);
  Gpt gpt(tiny());
  gpt.eval();
  const Tensor ids = random_ids(2);
  const Tensor base = gpt.lm_logits(ids).data();
  ASSERT_EQ(base.shape(), (Shape{kBatch, kLength, kVocab}));
  for (int64_t t = 0; t + 1 < kLength; ++t) {
    Tensor changed = ids.clone();
    for (int64_t i = 0; i < kBatch; ++i)
      for (int64_t p = t + 1; p < kLength; ++p) {
        int32_t& id = changed.data<int32_t>()[i * kLength + p];
        id = id % (kVocab - 1) + 1;  // another token in 1 .. V − 1
      }
    const Tensor logits = gpt.lm_logits(changed).data();
    EXPECT_LE(max_diff(base, logits, 0, t + 1), 1e-6) << "positions up to " << t << " saw the future";
    EXPECT_GT(max_diff(base, logits, t + 1, kLength), 1e-3) << "the changed tokens changed nothing";
  }
}

TEST(Gpt, WithoutTheMaskTheFutureLeaks) {  // the control: the same model bidirectional sees the change
  manual_seed(1);
  Gpt gpt(tiny());
  gpt.eval();
  const Tensor ids = random_ids(2);
  Tensor changed = ids.clone();
  changed.data<int32_t>()[kLength - 1] = ids.data<int32_t>()[kLength - 1] % (kVocab - 1) + 1;
  ASSERT_NE(changed.data<int32_t>()[kLength - 1], ids.data<int32_t>()[kLength - 1]);
  const Tensor a = gpt.head(gpt.encode_masked(ids, Tensor())).data();
  const Tensor b = gpt.head(gpt.encode_masked(changed, Tensor())).data();
  EXPECT_GT(max_diff(a, b, 0, 1), 1e-4);
}

// GPT-2's pre-LN arrangement: with each block's output projections zeroed, a layer hands its input on
// untouched (a post-LN layer would renormalize it), so the residual stream carries the raw embeddings.
TEST(Gpt, PreNormLayersLeaveTheResidualStreamUnnormalized) {
  manual_seed(15);
  Gpt gpt(tiny());
  gpt.eval();
  for (const auto& [name, param] : gpt.named_parameters())
    if (name.find(".out.") != std::string::npos || name.find(".f2.") != std::string::npos) {
      float* values = param.data().data<float>();
      std::fill_n(values, param.data().numel(), 0.0f);
    }
  const Tensor ids = random_ids(16);
  const Tensor embedded = gpt.embed(ids).data();
  const Tensor mask = gpt.attention_mask(ids);
  const std::vector<float> in = embedded.to_vector();
  for (int64_t layer = 0; layer < 2; ++layer) {
    const std::vector<float> out = gpt.run_layer(layer, Variable(embedded), mask).data().to_vector();
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) ASSERT_NEAR(out[i], in[i], 1e-7) << "layer " << layer;
  }
  double square = 0.0;  // tok + pos at N(0, 0.02²) each: far from unit variance, so a norm would show
  for (float v : in) square += double(v) * v;
  EXPECT_LT(square / static_cast<double>(in.size()), 0.01);
}

TEST(Gpt, PaddingMergesWithTheCausalMask) {
  manual_seed(3);
  Gpt gpt(tiny(0));
  gpt.eval();
  const Tensor full = random_ids(4, 1, kLength);
  EXPECT_EQ(gpt.attention_mask(full).shape(), (Shape{1, 1, kLength, kLength}));
  Tensor padded = Tensor::zeros({2, kLength}, DType::s32);  // row 0: full; row 1: 4 tokens then [PAD]
  for (int64_t p = 0; p < kLength; ++p) padded.data<int32_t>()[p] = full.data<int32_t>()[p];
  for (int64_t p = 0; p < 4; ++p) padded.data<int32_t>()[kLength + p] = full.data<int32_t>()[p];
  const Tensor mask = gpt.attention_mask(padded);
  ASSERT_EQ(mask.shape(), (Shape{2, 1, kLength, kLength}));
  EXPECT_EQ(mask.data<float>()[kLength * kLength + 5 * kLength + 4], kBertMaskedScore);  // pad key
  EXPECT_EQ(mask.data<float>()[kLength * kLength + 5 * kLength + 3], 0.0f);
  EXPECT_EQ(mask.data<float>()[2 * kLength + 3], kBertMaskedScore);  // future key
  const Tensor logits = gpt.lm_logits(padded).data();
  const Tensor alone = gpt.lm_logits(full).data();
  for (int64_t p = 0; p < kLength * kVocab; ++p)
    EXPECT_NEAR(logits.data<float>()[p], alone.data<float>()[p], 1e-5);
  for (int64_t p = 0; p < 4 * kVocab; ++p)
    EXPECT_NEAR(logits.data<float>()[kLength * kVocab + p], alone.data<float>()[p], 1e-5);
}

TEST(MultiHeadAttention, KeyMaskEqualsItsPerQueryExpansion) {
  manual_seed(5);
  MultiHeadAttention mha({.hidden = kHidden, .heads = 2});
  const Tensor x = Generator(6).normal_tensor({kBatch, kLength, kHidden});
  Tensor keys = Tensor::zeros({kBatch, 1, 1, kLength}),
         expanded = Tensor::zeros({kBatch, 1, kLength, kLength});
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t k = kLength - 1 - b; k < kLength; ++k) {
      keys.data<float>()[b * kLength + k] = kBertMaskedScore;
      for (int64_t q = 0; q < kLength; ++q)
        expanded.data<float>()[(b * kLength + q) * kLength + k] = kBertMaskedScore;
    }
  const std::vector<float> a = mha.forward(Variable(x), keys).data().to_vector();
  const std::vector<float> b = mha.forward(Variable(x), expanded).data().to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
  const std::string e = test::error_of([&] {
    mha.forward(Variable(x), Tensor::zeros({kBatch, 2, kLength, kLength}));
  });
  EXPECT_NE(e.find("MultiHeadAttention: mask [2, 2, 6, 6]"), std::string::npos) << e;
}

// The q/k/v and output projections with their weights as gradcheck inputs.
class WithWeight : public Module {
 public:
  WithWeight(std::shared_ptr<Linear> inner, Variable weight)
      : inner_(std::move(inner)), weight_(std::move(weight)) {}
  Variable forward(const Variable& x) override { return inner_->forward_with(x, weight_, inner_->bias()); }

 private:
  std::shared_ptr<Linear> inner_;
  Variable weight_;
};

std::shared_ptr<Linear> linear_child(const Module& m, const std::string& name) {
  for (const auto& [n, child] : m.children())
    if (n == name) return std::dynamic_pointer_cast<Linear>(child);
  return nullptr;
}

TEST(GradcheckMaskedAttention, CausalAndMergedMasks) {
  manual_seed(8);
  auto mha = std::make_shared<MultiHeadAttention>(MultiHeadAttentionOptions{.hidden = kHidden, .heads = 2});
  const auto qkv = linear_child(*mha, "qkv"), out = linear_child(*mha, "out");
  Gpt gpt(tiny(0));
  Tensor padded = random_ids(9);
  padded.data<int32_t>()[2 * kLength - 1] = 0;  // the second sequence ends in [PAD]
  for (const Tensor& mask : {causal_mask(kLength), gpt.attention_mask(padded)}) {
    auto f = [&](const std::vector<Variable>& in) {
      mha->replace_child("qkv", std::make_shared<WithWeight>(qkv, in[1]));
      mha->replace_child("out", std::make_shared<WithWeight>(out, in[2]));
      return mha->forward(in[0], mask);
    };
    EXPECT_EQ(gradcheck(f, {Generator(10).normal_tensor({kBatch, kLength, kHidden}, 0.0f, 0.5f),
                            qkv->weight().data(), out->weight().data()}),
              "")
        << "mask " << mask.str();
  }
}

// Σ w ⊙ logits for a fixed random w, in double.
double projected(Gpt& gpt, const Tensor& ids, const Tensor& w) {
  const std::vector<float> logits = gpt.lm_logits(ids).data().to_vector();
  double s = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) s += double(logits[i]) * w.data<float>()[i];
  return s;
}

TEST(GradcheckGpt, TiedHeadGradientReachesTheTableThroughBothPaths) {
  manual_seed(11);
  Gpt gpt(tiny(-1, 1));
  gpt.eval();
  const Tensor ids = random_ids(12);
  const Tensor w = Generator(13).normal_tensor({kBatch, kLength, kVocab});
  Variable table = gpt.named_parameters().front().second;
  ASSERT_EQ(gpt.named_parameters().front().first, "tok.weight");
  sum(gpt.lm_logits(ids) * Variable(w)).backward();
  const std::vector<float> analytic = table.grad().to_vector();
  float* values = table.data().data<float>();
  // A tenth of the table's N(0, 0.02²) scale: the raw embeddings enter the first layer's LayerNorm, whose
  // curvature at that scale makes central differences over a larger step inexact.
  const double eps = 2e-3;
  Generator pick(14);
  int nonzero = 0;
  for (int n = 0; n < 40; ++n) {
    // Rows of tokens in the batch get both paths; other rows only the head's.
    const int64_t i = pick.below(kVocab * kHidden);
    const float keep = values[i];
    values[i] = keep + static_cast<float>(eps);
    const double up = projected(gpt, ids, w);
    values[i] = keep - static_cast<float>(eps);
    const double down = projected(gpt, ids, w);
    values[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "tok.weight element " << i;
    nonzero += analytic[i] != 0.0f;
  }
  EXPECT_GT(nonzero, 30);  // the gradient is dense: every row gets the head's share
}

}  // namespace
}  // namespace qat
