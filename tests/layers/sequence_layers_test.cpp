// LayerNorm, Embedding, Dropout and Identity as layers: parameters, values, modes and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "engine/error.h"
#include "engine/random.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/identity.h"
#include "layers/layer_norm.h"
#include "tests/test_util.h"

namespace qat {
namespace {

using test::error_of;

TEST(LayerNormLayer, NormalizesRowsWithUnitScaleAtStart) {
  LayerNorm norm({.dim = 4});
  std::vector<std::string> names;
  for (auto& [name, p] : norm.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias"}));
  const std::vector<float> y =
      norm.forward(Variable(Tensor::from_vector({2, 4}, {1, 2, 3, 4, -2, 0, 2, 4}))).data().to_vector();
  // Row 1: mean 2.5, variance 1.25.
  const float sd = std::sqrt(1.25f + 1e-5f);
  EXPECT_NEAR(y[0], -1.5f / sd, 1e-5);
  EXPECT_NEAR(y[3], 1.5f / sd, 1e-5);
  EXPECT_NEAR(y[4], -1.5f / sd, 1e-5);  // row 2 is row 1 scaled by 2 and shifted
  const std::string e = error_of([&] { norm.forward(Variable(Tensor::zeros({2, 3}))); });
  EXPECT_NE(e.find("LayerNorm: input [2, 3]"), std::string::npos) << e;
}

TEST(EmbeddingLayer, LooksUpRowsAndRejectsFloatIds) {
  Embedding table({.vocab = 5, .dim = 3});
  const Tensor& w = table.named_parameters().at(0).second.data();
  EXPECT_EQ(table.named_parameters().at(0).first, "weight");
  EXPECT_EQ(w.shape(), (Shape{5, 3}));
  Tensor ids = Tensor::empty({2, 2}, DType::s32);
  const int32_t values[] = {4, 0, 2, 4};
  std::copy(values, values + 4, ids.data<int32_t>());
  const Variable y = table.forward(Variable(ids));
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3}));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(y.data().data<float>()[i * 3 + j], w.data<float>()[values[i] * 3 + j]);
  const std::string e = error_of([&] { table.lookup(Tensor::zeros({2, 2})); });
  EXPECT_NE(e.find("Embedding: ids [2, 2] f32"), std::string::npos) << e;
}

TEST(DropoutLayer, DeterministicByGlobalSeedAndIdentityInEval) {
  const Tensor x = Tensor::full({64, 64}, 1.0f);
  Dropout a({.p = 0.25f}), b({.p = 0.25f});
  manual_seed(5);
  const std::vector<float> ya = a.forward(Variable(x)).data().to_vector();
  manual_seed(5);
  EXPECT_EQ(ya, b.forward(Variable(x)).data().to_vector());
  manual_seed(6);
  EXPECT_NE(ya, b.forward(Variable(x)).data().to_vector());
  int64_t zeros = 0;
  for (float v : ya) {
    EXPECT_TRUE(v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6f) << v;
    zeros += v == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(zeros) / x.numel(), 0.25, 0.03);
  EXPECT_NE(ya, a.forward(Variable(x)).data().to_vector()) << "each call draws a new mask";
  a.eval();
  const Variable in(x);
  EXPECT_EQ(a.forward(in).impl(), in.impl());
  EXPECT_NE(error_of([] { Dropout({.p = 1.5f}); }).find("Dropout: p 1.5"), std::string::npos);
}

TEST(IdentityLayer, ReturnsItsInput) {
  Identity id;
  const Variable x(Tensor::zeros({3}), true);
  EXPECT_EQ(id.forward(x).impl(), x.impl());
  EXPECT_TRUE(id.named_parameters().empty());
}

}  // namespace
}  // namespace qat
