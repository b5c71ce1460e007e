// A steady-state training step builds no oneDNN primitive and allocates no new memory: every primitive
// comes from the cache after the first step, and the storage pool hands back the same buffers; in f32
// and in bf16 precision.
#include <gtest/gtest.h>

#include "autograd/ops/loss.h"
#include "engine/context.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "engine/storage.h"
#include "layers/models/resnet.h"
#include "trainers/sgd.h"

namespace qat {
namespace {

void expect_steady_state() {
  manual_seed(3);
  auto model = resnet({.widths = {8, 16}, .blocks_per_stage = 1, .in_channels = 1, .num_classes = 10});
  Sgd sgd({{.params = model->parameters(), .weight_decay = 5e-4f}},
          {.lr = 0.05f, .momentum = 0.9f, .nesterov = true});
  Generator gen(5);
  const Tensor images = gen.normal_tensor({16, 1, 28, 28});
  Tensor labels = Tensor::empty({16}, DType::s32);
  for (int i = 0; i < 16; ++i) labels.data<int32_t>()[i] = i % 10;

  std::vector<float> losses;
  auto step = [&] {
    sgd.zero_grad();
    const Variable loss = cross_entropy(model->forward(Variable(images)), labels);
    loss.backward();
    sgd.step();
    losses.push_back(loss.data().item());
  };
  step();
  const int64_t primitives = PrimitiveCache::get().created();
  step();
  const int64_t live = Storage::live_bytes();
  for (int i = 0; i < 3; ++i) step();
  EXPECT_EQ(PrimitiveCache::get().created(), primitives);
  EXPECT_EQ(Storage::live_bytes(), live);
  EXPECT_LT(losses.back(), losses.front());  // the steps did train
}

TEST(SteadyState, SecondAndLaterStepsCreateNoPrimitives) { expect_steady_state(); }

TEST(SteadyState, Bf16StepsCreateNoPrimitives) {
  if (!Context::bf16_supported()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  const PrecisionScope bf16(Precision::bf16);
  expect_steady_state();
}

}  // namespace
}  // namespace qat
