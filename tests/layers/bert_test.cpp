// BERT: the architecture of the PyTorch reference (parameter count), heads and shapes, padding that does
// not change the real tokens' outputs, and learning on a tiny masked-LM task.
#include "layers/models/bert.h"

#include <gtest/gtest.h>

#include "autograd/ops/loss.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/layers/sign_descent.h"

namespace qat {
namespace {

Tensor ids(const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty(shape, DType::s32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

int64_t count(const std::vector<Variable>& params) {
  int64_t n = 0;
  for (const Variable& p : params) n += p.numel();
  return n;
}

// ../shared/bench/torch_reference.py's Bert() (vocab 8192, BERT-small): 7,394,816 parameters.
TEST(Bert, SmallHasTheReferenceParameterCount) {
  Bert model(bert_small(8192, 0));
  EXPECT_EQ(count(model.parameters()), 7394816);
  const auto names = model.named_parameters();
  EXPECT_EQ(names.front().first, "tok.weight");
  EXPECT_EQ(names[4].first, "layers.0.attn.qkv.weight");
}

TEST(Bert, HeadsGiveTheirShapes) {
  Bert mlm({.vocab = 50, .hidden = 16, .layers = 2, .heads = 2, .ffn = 32, .max_length = 8, .dropout = 0.0f});
  const Tensor x = ids({2, 6}, {2, 7, 9, 3, 0, 0, 2, 8, 8, 8, 8, 3});
  EXPECT_EQ(mlm.forward(Variable(x)).shape(), (Shape{2, 6, 50}));
  Bert classifier(
      {.vocab = 50, .hidden = 16, .layers = 2, .heads = 2, .ffn = 32, .max_length = 8, .num_classes = 5});
  EXPECT_EQ(classifier.forward(Variable(x)).shape(), (Shape{2, 5}));
}

TEST(Bert, PaddingDoesNotChangeRealTokens) {
  manual_seed(7);
  Bert model(
      {.vocab = 30, .hidden = 16, .layers = 2, .heads = 4, .ffn = 32, .max_length = 8, .dropout = 0.1f});
  model.eval();
  const std::vector<float> short_out =
      model.forward(Variable(ids({1, 4}, {2, 11, 12, 3}))).data().to_vector();
  const std::vector<float> padded =
      model.forward(Variable(ids({1, 7}, {2, 11, 12, 3, 0, 0, 0}))).data().to_vector();
  for (size_t i = 0; i < short_out.size(); ++i) EXPECT_NEAR(padded[i], short_out[i], 1e-5) << i;
}

TEST(Bert, LearnsToFillInMaskedTokens) {
  manual_seed(8);
  Bert model(
      {.vocab = 12, .hidden = 16, .layers = 1, .heads = 2, .ffn = 32, .max_length = 6, .dropout = 0.0f});
  // Token 4 at position 2 (a [MASK] id) must be predicted from its neighbours.
  const Tensor x = ids({2, 5}, {2, 5, 4, 6, 3, 2, 7, 4, 8, 3});
  const Tensor y = ids({10}, {-100, -100, 9, -100, -100, -100, -100, 10, -100, -100});
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    for (Variable& p : model.parameters()) p.zero_grad();
    const Variable logits = model.forward(Variable(x));
    const Variable loss = cross_entropy(reshape(logits, {10, 12}), y);
    loss.backward();
    for (Variable& p : model.parameters()) testing::sign_descent(p, 0.02f);
    (step == 0 ? first : last) = loss.data().item();
  }
  EXPECT_LT(last, 0.1 * first);
}

TEST(Bert, RejectsBadInput) {
  Bert model({.vocab = 10, .hidden = 8, .layers = 1, .heads = 2, .ffn = 16, .max_length = 4});
  EXPECT_THROW(model.forward(Variable(Tensor::zeros({1, 3}))), Error);
  try {
    model.forward(Variable(ids({1, 5}, {2, 3, 4, 5, 6})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_length 4"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
