#include "engine/tensor.h"

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

TEST(Tensor, PlainLayoutAndValues) {
  const Tensor t = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(t.is_plain());
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_EQ(t.str(), "[2, 3] f32");
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Tensor, ReshapeAndSliceAreViews) {
  const Tensor t = Tensor::from_vector({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  const Tensor r = t.reshape({2, 4});
  EXPECT_TRUE(r.shares_storage(t));
  const Tensor s = t.slice_rows(1, 3);
  EXPECT_TRUE(s.shares_storage(t));
  EXPECT_EQ(s.to_vector(), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_THROW(t.reshape({3, 3}), Error);
  EXPECT_THROW(t.slice_rows(3, 5), Error);
}

TEST(Tensor, BlockedRoundTrip) {
  Generator gen(1);
  const Tensor t = gen.normal_tensor({2, 19, 5, 5});
  const dnnl::memory::desc blocked({2, 19, 5, 5}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::nChw16c);
  const Tensor b = t.to_layout(blocked);
  EXPECT_FALSE(b.is_plain());
  EXPECT_THROW(b.data<float>(), Error);
  EXPECT_EQ(b.contiguous().to_vector(), t.to_vector());
}

TEST(Tensor, DTypeConversions) {
  const Tensor t = Tensor::from_vector({4}, {-300.0f, -1.0f, 1.0f, 300.0f});
  EXPECT_EQ(t.to(DType::s8).to_vector(), (std::vector<float>{-128, -1, 1, 127}));
  EXPECT_EQ(t.to(DType::u8).to_vector(), (std::vector<float>{0, 0, 1, 255}));
  EXPECT_EQ(t.to(DType::s32).to_vector(), (std::vector<float>{-300, -1, 1, 300}));
  EXPECT_EQ(t.to(DType::bf16).to_vector(), (std::vector<float>{-300, -1, 1, 300}));
  EXPECT_EQ(size_of(DType::bf16), 2u);
  EXPECT_THROW(t.to(DType::s8).data<float>(), Error);
}

TEST(Tensor, GeneratorIsDeterministicAndRestorable) {
  Generator a(42), b(42);
  EXPECT_EQ(a.uniform_tensor({8}, 0, 1).to_vector(), b.uniform_tensor({8}, 0, 1).to_vector());
  const std::string state = a.state();
  const float next = a.normal();
  a.set_state(state);
  EXPECT_EQ(a.normal(), next);
}

}  // namespace
}  // namespace qat
