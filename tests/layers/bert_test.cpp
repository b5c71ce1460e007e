// Bert: shapes, parameter names and count, masking, heads, dropout determinism, a memorization task
// and bad-input errors.
#include "layers/models/bert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "engine/random.h"
#include "layers/identity.h"
#include "layers/models/transformer_layer.h"
#include "tests/test_util.h"

namespace qat {
namespace {

constexpr int64_t kVocab = 20, kHidden = 16, kBatch = 3, kLength = 6, kClasses = 4;

BertOptions tiny(int64_t classes = kClasses) {
  return {.stack = {.vocab = kVocab, .hidden = kHidden, .layers = 2, .heads = 2, .ffn = 32, .max_len = 8},
          .num_classes = classes};
}

Tensor ids_of(const std::vector<int32_t>& values, const Shape& shape) {
  Tensor ids = Tensor::empty(shape, DType::s32);
  std::copy(values.begin(), values.end(), ids.data<int32_t>());
  return ids;
}

Tensor random_ids(uint64_t seed, int64_t batch = kBatch, int64_t length = kLength) {
  Generator gen(seed);
  std::vector<int32_t> values(batch * length);
  for (auto& v : values) v = static_cast<int32_t>(1 + gen.below(kVocab - 1));
  return ids_of(values, {batch, length});
}

// s32 [B, T] mask keeping the first `tokens[b]` positions of each sequence.
Tensor prefix_mask(const std::vector<int64_t>& tokens) {
  std::vector<int32_t> values;
  for (int64_t count : tokens)
    for (int64_t t = 0; t < kLength; ++t) values.push_back(t < count);
  return ids_of(values, {static_cast<int64_t>(tokens.size()), kLength});
}

using test::error_of;

int64_t parameter_count(const Module& m) {
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.numel();
  return count;
}

TEST(Bert, OutputShapes) {
  Bert bert(tiny());
  const Tensor ids = random_ids(1);
  EXPECT_EQ(bert.encode(ids).shape(), (Shape{kBatch, kLength, kHidden}));
  EXPECT_EQ(bert.mlm_logits(ids).shape(), (Shape{kBatch, kLength, kVocab}));
  EXPECT_EQ(bert.classify(ids).shape(), (Shape{kBatch, kClasses}));
  EXPECT_EQ(bert.forward(Variable(ids)).shape(), (Shape{kBatch, kLength, kVocab}));
  BertOptions classify = tiny();
  classify.head = BertHead::classify;
  EXPECT_EQ(Bert(classify).forward(Variable(ids)).shape(), (Shape{kBatch, kClasses}));
}

TEST(Bert, ParameterNames) {
  Bert bert(tiny());
  std::vector<std::string> names;
  for (const auto& [name, p] : bert.named_parameters()) names.push_back(name);
  const std::vector<std::string> first{"tok.weight",
                                       "pos.weight",
                                       "norm.weight",
                                       "norm.bias",
                                       "layers.0.attn.qkv.weight",
                                       "layers.0.attn.qkv.bias",
                                       "layers.0.attn.out.weight",
                                       "layers.0.attn.out.bias",
                                       "layers.0.n1.weight",
                                       "layers.0.n1.bias",
                                       "layers.0.f1.weight",
                                       "layers.0.f1.bias",
                                       "layers.0.f2.weight",
                                       "layers.0.f2.bias",
                                       "layers.0.n2.weight",
                                       "layers.0.n2.bias",
                                       "layers.1.attn.qkv.weight"};
  ASSERT_GT(names.size(), first.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + first.size()), first);
  const std::vector<std::string> last{"mlm_head.weight", "mlm_head.bias", "cls_head.weight", "cls_head.bias"};
  EXPECT_EQ(std::vector<std::string>(names.end() - 4, names.end()), last);
  EXPECT_EQ(names.size(), 4u + 2u * 12u + 4u);
}

TEST(Bert, SmallMatchesTheReferenceParameterCount) {
  // Parameters of the PyTorch reference (shared/bench/torch_reference.py Bert, 7,394,816 for vocab 8192):
  // embeddings V·H + L·H, LayerNorm 2H, per layer qkv 3H·H + 3H, out H·H + H, f1 F·H + F, f2 H·F + H and
  // two LayerNorms 4H, MLM head H·V + V.
  const int64_t v = 8192, h = 256, l = 128, f = 1024, layers = 4;
  const int64_t per_layer = 3 * h * h + 3 * h + h * h + h + f * h + f + h * f + h + 4 * h;
  const int64_t expected = v * h + l * h + 2 * h + layers * per_layer + h * v + v;
  EXPECT_EQ(expected, 7394816);
  EXPECT_EQ(parameter_count(*bert_small(v, 0)), expected);
  EXPECT_EQ(parameter_count(*bert_small(v, 45)), expected + h * 45 + 45);
}

TEST(Bert, PaddingDoesNotChangeTokens) {
  manual_seed(2);
  Bert bert(tiny());
  const std::vector<int64_t> tokens{6, 4, 2};
  const Tensor mask = prefix_mask(tokens);
  const Tensor ids = random_ids(3);
  Tensor changed = ids.clone();
  for (int64_t b = 1; b < kBatch; ++b) changed.data<int32_t>()[b * kLength + kLength - 1] = 0;
  const std::vector<float> before = bert.encode(ids, mask).data().to_vector();
  const std::vector<float> after = bert.encode(changed, mask).data().to_vector();
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t t = 0; t < tokens[b]; ++t)
      for (int64_t i = 0; i < kHidden; ++i) {
        const int64_t at = (b * kLength + t) * kHidden + i;
        EXPECT_NEAR(after[at], before[at], 1e-6) << "b " << b << " t " << t;
      }
  const std::vector<float> cls = bert.classify(ids, mask).data().to_vector();
  const std::vector<float> cls_changed = bert.classify(changed, mask).data().to_vector();
  for (size_t i = 0; i < cls.size(); ++i) EXPECT_NEAR(cls_changed[i], cls[i], 1e-6);
  // Without the mask the changed ids reach the first token of the changed sequences.
  EXPECT_GT(std::abs(bert.encode(changed).data().to_vector()[kLength * kHidden] -
                     bert.encode(ids).data().to_vector()[kLength * kHidden]),
            1e-6f);
}

TEST(Bert, ForwardMasksPadIdAndAllOnesMaskIsNoMask) {
  manual_seed(4);
  BertOptions options = tiny();
  options.stack.pad_id = 0;
  Bert bert(options);
  Tensor ids = random_ids(5);
  for (int64_t t = 3; t < kLength; ++t) ids.data<int32_t>()[kLength + t] = 0;
  EXPECT_EQ(bert.forward(Variable(ids)).data().to_vector(),
            bert.mlm_logits(ids, prefix_mask({6, 3, 6})).data().to_vector());
  Tensor float_mask = Tensor::full({kBatch, kLength}, 1.0f);
  EXPECT_EQ(bert.mlm_logits(ids, float_mask).data().to_vector(), bert.mlm_logits(ids).data().to_vector());
}

TEST(Bert, DropoutIsSeededAndOffInEval) {
  BertOptions options = tiny();
  options.stack.dropout = 0.3f;
  manual_seed(6);
  Bert a(options);
  manual_seed(6);
  Bert b(options);
  const Tensor ids = random_ids(7);
  manual_seed(11);
  const std::vector<float> train = a.encode(ids).data().to_vector();
  manual_seed(11);
  EXPECT_EQ(train, b.encode(ids).data().to_vector());
  a.eval();
  const std::vector<float> eval = a.encode(ids).data().to_vector();
  EXPECT_NE(train, eval);
  EXPECT_EQ(eval, a.encode(ids).data().to_vector());
}

TEST(Bert, MemorizesATinyBatch) {
  manual_seed(8);
  Bert bert(tiny(0));
  const Tensor ids = random_ids(9);
  const Tensor targets = random_ids(10).reshape({kBatch * kLength});
  std::vector<Tensor> velocity;
  for (const auto& p : bert.parameters()) velocity.push_back(Tensor::zeros(p.shape()));
  auto step = [&] {
    const Variable loss = cross_entropy(reshape(bert.mlm_logits(ids), {kBatch * kLength, kVocab}), targets);
    for (auto& p : bert.parameters()) p.zero_grad();
    loss.backward();
    auto params = bert.parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor g = params[i].grad().contiguous();
      Tensor w = params[i].data().clone();
      const float* dw = g.data<float>();
      float* v = velocity[i].data<float>();
      float* pw = w.data<float>();
      for (int64_t j = 0; j < w.numel(); ++j) {
        v[j] = 0.9f * v[j] + dw[j];
        pw[j] -= 0.05f * v[j];
      }
      params[i].set_data(w);
    }
    return loss.data().item();
  };
  const float first = step();
  EXPECT_NEAR(first, std::log(static_cast<float>(kVocab)), 1.5f);
  float last = first;
  for (int i = 0; i < 40; ++i) last = step();
  EXPECT_LT(last, 0.25f * first) << "first " << first;
}

TEST(TransformerLayer, IsPostLayerNorm) {
  manual_seed(12);
  TransformerLayer layer({.hidden = kHidden, .heads = 2, .ffn = 32});
  std::map<std::string, Variable> p;
  for (const auto& [name, param] : layer.named_parameters()) p[name] = param;
  const Variable x(Generator(13).normal_tensor({2, kLength, kHidden}));
  auto* attn = dynamic_cast<MultiHeadAttention*>(layer.children()[0].second.get());
  ASSERT_NE(attn, nullptr);
  const Variable y = layer_norm(x + attn->forward(x), p["n1.weight"], p["n1.bias"]);
  const Variable ffn = linear(gelu(linear(y, p["f1.weight"], p["f1.bias"])), p["f2.weight"], p["f2.bias"]);
  const std::vector<float> expected = layer_norm(y + ffn, p["n2.weight"], p["n2.bias"]).data().to_vector();
  const std::vector<float> actual = layer.forward(x).data().to_vector();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-5) << i;
}

TEST(Bert, ReplacedLayersMustTakeTheMask) {
  Bert bert(tiny());
  for (const auto& [name, child] : bert.children())
    if (name == "layers") child->replace_child("1", std::make_shared<Identity>());
  EXPECT_EQ(bert.encode(random_ids(1)).shape(), (Shape{kBatch, kLength, kHidden}));
  const std::string e = error_of([&] { bert.encode(random_ids(1), prefix_mask({6, 5, 4})); });
  EXPECT_NE(e.find("child '1' does not take an attention mask (mask [3, 1, 1, 6]"), std::string::npos) << e;
}

TEST(Bert, BadInputsNameTheLayerAndShapes) {
  Bert bert(tiny());
  std::string e = error_of([&] { bert.encode(Tensor::zeros({2, 4})); });
  EXPECT_NE(e.find("Bert: ids [2, 4] f32 must be s32"), std::string::npos) << e;
  e = error_of([&] { bert.encode(random_ids(1, 2, 9)); });
  EXPECT_NE(e.find("longer than max_len 8"), std::string::npos) << e;
  e = error_of([&] { bert.encode(random_ids(1), Tensor::zeros({kBatch, kLength + 1})); });
  EXPECT_NE(e.find("Bert: attention mask [3, 7]"), std::string::npos) << e;
  e = error_of([&] { Bert(tiny(0)).classify(random_ids(1)); });
  EXPECT_NE(e.find("classify needs num_classes"), std::string::npos) << e;
  BertOptions bad = tiny();
  bad.stack.heads = 3;
  e = error_of([&] { Bert{bad}; });
  EXPECT_NE(e.find("MultiHeadAttention: hidden 16"), std::string::npos) << e;
}

}  // namespace
}  // namespace qat
