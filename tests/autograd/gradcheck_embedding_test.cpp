// Gradient check for embedding against central finite differences (f32, eps 1e-2, atol 2e-3,
// rtol 1e-2; the op is linear in the table, so differences are exact up to rounding), values, the
// scatter-add of repeated ids, and bad-input errors.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/embedding.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

Tensor ids(const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty(shape, DType::s32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

using test::error_of;

TEST(GradcheckEmbedding, Embedding) {
  const Tensor i = ids({2, 3}, {4, 1, 4, 0, 2, 4});  // id 4 three times, id 3 never
  const Tensor table = Generator(1).uniform_tensor({5, 4}, -1.0f, 1.0f);
  EXPECT_EQ(gradcheck([&](const std::vector<Variable>& in) { return embedding(i, in[0]); }, {table}), "");
}

TEST(GradcheckEmbedding, EmbeddingGathersRows) {
  const Tensor table = Tensor::from_vector({3, 2}, {0.0f, 1.0f, 10.0f, 11.0f, 20.0f, 21.0f});
  const Variable y = embedding(ids({2, 2}, {2, 0, 2, 1}), Variable(table));
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(y.data().to_vector(), (std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11}));
}

TEST(GradcheckEmbedding, EmbeddingScatterAddsRepeatedIds) {
  Variable table(Tensor::zeros({4, 3}), true);
  const Variable y = embedding(ids({4}, {3, 1, 3, 3}), table);
  y.backward(Tensor::from_vector({4, 3}, {1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 2000, 3000}));
  EXPECT_EQ(table.grad().to_vector(), (std::vector<float>{0, 0, 0, 10, 20, 30, 0, 0, 0, 1101, 2202, 3303}));
}

TEST(GradcheckEmbedding, EmbeddingLargeBackwardIsDeterministic) {
  // Many repeats of few ids, large enough for the parallel path: two runs agree bit for bit and
  // match a sequential sum.
  Generator gen(2);
  std::vector<int32_t> values(4096);
  for (auto& v : values) v = static_cast<int32_t>(gen.below(7));
  const Tensor i = ids({64, 64}, values);
  const Tensor g = gen.normal_tensor({64, 64, 32});
  const auto table_grad = [&] {
    Variable table(Tensor::zeros({7, 32}), true);
    embedding(i, table).backward(g);
    return table.grad().to_vector();
  };
  const std::vector<float> first = table_grad();
  EXPECT_EQ(first, table_grad());
  std::vector<float> expected(7 * 32, 0.0f);
  const std::vector<float> vg = g.to_vector();
  for (size_t n = 0; n < values.size(); ++n)
    for (int j = 0; j < 32; ++j) expected[values[n] * 32 + j] += vg[n * 32 + j];
  EXPECT_EQ(first, expected);
}

TEST(GradcheckEmbedding, EmbeddingIdOutOfRangeNamesIdAndTable) {
  const std::string message = error_of([] {
    embedding(ids({3}, {0, 5, 1}), Variable(Tensor::zeros({5, 2})));
  });
  EXPECT_NE(message.find("embedding"), std::string::npos) << message;
  EXPECT_NE(message.find("id 5"), std::string::npos) << message;
  EXPECT_NE(message.find("[5, 2]"), std::string::npos) << message;
}

TEST(GradcheckEmbedding, EmbeddingRejectsFloatIds) {
  const std::string message = error_of([] {
    embedding(Tensor::zeros({3}), Variable(Tensor::zeros({5, 2})));
  });
  EXPECT_NE(message.find("embedding"), std::string::npos) << message;
  EXPECT_NE(message.find("[3] f32"), std::string::npos) << message;
  EXPECT_NE(message.find("[5, 2]"), std::string::npos) << message;
}

}  // namespace
}  // namespace qat
