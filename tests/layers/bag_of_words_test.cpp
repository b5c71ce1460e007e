// The bag-of-words baseline: its logits are a linear function of the term frequencies, padding ignored,
// and it learns a toy task in a few steps.
#include "layers/models/bag_of_words.h"

#include <gtest/gtest.h>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/loss.h"
#include "engine/error.h"

namespace qat {
namespace {

Tensor ids(const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty(shape, DType::s32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

TEST(BagOfWords, LogitsAreMeanWordWeightsPlusBias) {
  BagOfWords model({.vocab = 4, .num_classes = 2});
  auto params = model.named_parameters();
  params[0].second.set_data(Tensor::from_vector({4, 2}, {0, 0, 1, 2, 3, 4, 5, 6}));
  params[1].second.set_data(Tensor::from_vector({2}, {10, 20}));
  // Row 0: words 1, 2, 2 and one pad; row 1: word 3 and pads.
  const Tensor out = model.forward(Variable(ids({2, 4}, {1, 2, 2, 0, 3, 0, 0, 0}))).data();
  const std::vector<float> v = out.to_vector();
  EXPECT_FLOAT_EQ(v[0], 10 + (1 + 3 + 3) / 3.0f);
  EXPECT_FLOAT_EQ(v[1], 20 + (2 + 4 + 4) / 3.0f);
  EXPECT_FLOAT_EQ(v[2], 15);
  EXPECT_FLOAT_EQ(v[3], 26);
}

TEST(BagOfWords, LearnsWhichWordMarksTheClass) {
  BagOfWords model({.vocab = 6, .num_classes = 2});
  const Tensor x = ids({4, 3}, {1, 4, 0, 2, 4, 5, 3, 5, 0, 1, 3, 5});
  Tensor y = Tensor::empty({4}, DType::s32);
  const int32_t labels[] = {0, 0, 1, 1};  // word 4 marks class 0, word 3 class 1
  std::copy(labels, labels + 4, y.data<int32_t>());
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    for (Variable& p : model.parameters()) p.zero_grad();
    const Variable loss = cross_entropy(model.forward(Variable(x)), y);
    loss.backward();
    for (Variable& p : model.parameters())  // plain gradient descent, lr 5
      p.set_data((Variable(p.data()) - Variable(p.grad()) * 5.0f).data());
    (step == 0 ? first : last) = loss.data().item();
  }
  EXPECT_LT(last, 0.1 * first);
}

TEST(BagOfWords, RejectsNonTokenInput) {
  BagOfWords model({.vocab = 4, .num_classes = 2});
  try {
    model.forward(Variable(Tensor::zeros({2, 3})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("BagOfWords"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3] f32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
