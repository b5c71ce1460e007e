// Data-parallel training, run by ctest as `mpirun -np 2`: with the same global batch, the ranks' replicas
// end where one process training alone ends, and stay equal.
#include <gtest/gtest.h>

#include <cmath>

#include "datasets/data_loader.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "quant/quantizers/pact_quantizer.h"
#include "trainers/image_batches.h"
#include "trainers/sgd.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

// 48 random single-channel 4x4 images in 3 classes.
ImageDataset random_images() {
  Generator gen(11);
  ImageDataset data;
  data.images = Tensor::empty({48, 1, 4, 4}, DType::u8);
  for (int64_t i = 0; i < data.images.numel(); ++i)
    data.images.data<uint8_t>()[i] = static_cast<uint8_t>(gen.below(256));
  for (int i = 0; i < 48; ++i) data.labels.push_back(static_cast<int32_t>(gen.below(3)));
  data.num_classes = 3;
  return data;
}

// Linear → PACT activation quantizer (its clipping level α a trained scalar) → ReLU → Linear, initialized
// from `seed`; α starts at 0.5, where many activations clip, so that it trains. (LSQ's activation step
// would not fit this comparison: its gradient scale 1/sqrt(numel·Qp) counts the examples of the rank's
// batch, not of the global one.)
std::shared_ptr<Sequential> tiny_model(uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<Sequential>();
  model->add(std::make_shared<Flatten>())
      .add(std::make_shared<Linear>(LinearOptions{.in = 16, .out = 8}))
      .add(std::make_shared<PactQuantizer>(
          QuantizerOptions{.target = QuantTarget::activation, .bits = 4, .is_signed = true}))
      .add(std::make_shared<Activation>(ActivationKind::relu))
      .add(std::make_shared<Linear>(LinearOptions{.in = 8, .out = 3}));
  std::map<std::string, Tensor> state = model->state_dict();
  state.at("2.initialized") = Tensor::full({1}, 1.0f);
  state.at("2.signed") = Tensor::full({1}, 1.0f);
  state.at("2.alpha") = Tensor::full({1}, 0.5f);
  model->load_state_dict(state);
  return model;
}

// Trains `model` for two epochs of global batch 8 (momentum SGD), reading shard `rank` of `ranks`.
void train(Module& model, const ImageDataset& data, Communicator* communicator) {
  const int ranks = communicator ? communicator->size() : 1, rank = communicator ? communicator->rank() : 0;
  DataLoader loader(data, {.batch_size = 8,
                           .shuffle = true,
                           .drop_last = true,
                           .seed = 5,
                           .mean = {0.5f},
                           .stddev = {0.25f},
                           .shard = rank,
                           .shards = ranks});
  ImageBatches batches(loader);
  Sgd sgd({{.params = model.parameters(), .weight_decay = 0.0f}},
          {.lr = 0.1f, .momentum = 0.9f, .nesterov = false});
  TrainerOptions options{.epochs = 2,
                         .schedule = {.kind = LrScheduleOptions::Kind::constant, .base_lr = 0.1f}};
  options.communicator = communicator;
  Trainer(model, sgd, options).fit(batches, batches);
}

// Every rank's shard of an epoch, counted over the ranks (an average times the ranks), is the unsharded
// epoch: each example of it exactly once, nothing else.
TEST(DataParallel, ShardsOfTheRanksAreDisjointAndCoverTheEpoch) {
  Communicator& world = world_communicator();
  ASSERT_GE(world.size(), 2) << "run under mpirun -np 2 (ctest does)";
  ImageDataset data = random_images();
  for (int i = 0; i < data.size(); ++i) data.labels[static_cast<size_t>(i)] = i;  // label = example
  const DataLoaderOptions whole{.batch_size = 8, .shuffle = true, .drop_last = true, .seed = 5};
  DataLoaderOptions mine = whole;
  mine.shard = world.rank();
  mine.shards = world.size();
  for (int epoch : {0, 3}) {
    auto seen = [&](const DataLoaderOptions& options) {
      DataLoader loader(data, options);
      loader.start_epoch(epoch);
      std::vector<float> count(static_cast<size_t>(data.size()), 0.0f);
      for (Tensor images, labels; loader.next(images, labels);)
        for (int64_t i = 0; i < labels.numel(); ++i)
          count[static_cast<size_t>(labels.data<int32_t>()[i])] += 1;
      return count;
    };
    std::vector<float> over_ranks = seen(mine);
    world.average(over_ranks);
    for (float& c : over_ranks) c *= static_cast<float>(world.size());
    EXPECT_EQ(over_ranks, seen(whole)) << "epoch " << epoch;
  }
}

TEST(DataParallel, TwoRanksMatchOneProcessWithTheSameGlobalBatch) {
  Communicator& world = world_communicator();
  ASSERT_GE(world.size(), 2) << "run under mpirun -np 2 (ctest does)";
  const ImageDataset data = random_images();
  const auto alone = tiny_model(1);
  train(*alone, data, nullptr);
  // Every rank but 0 starts from other weights: the Trainer must replace them by rank 0's.
  const auto replica = tiny_model(1 + static_cast<uint64_t>(world.rank()));
  train(*replica, data, &world);
  const auto expected = alone->named_parameters(), got = replica->named_parameters();
  ASSERT_EQ(expected.size(), got.size());
  for (size_t p = 0; p < got.size(); ++p) {
    const std::vector<float> a = expected[p].second.data().to_vector(), b = got[p].second.data().to_vector();
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(b[i], a[i], 1e-4f * (1.0f + std::abs(a[i]))) << expected[p].first << "[" << i << "]";
  }
  // The quantizer's α trained (it is averaged like any parameter).
  EXPECT_GT(std::abs(alone->state_dict().at("2.alpha").data<float>()[0] - 0.5f), 1e-4f);
}

TEST(DataParallel, ReplicasStayBitwiseEqual) {
  Communicator& world = world_communicator();
  ASSERT_GE(world.size(), 2) << "run under mpirun -np 2 (ctest does)";
  const auto replica = tiny_model(7 + static_cast<uint64_t>(world.rank()));
  train(*replica, random_images(), &world);
  std::map<std::string, Tensor> mine = replica->state_dict();
  for (auto& [name, tensor] : mine) {
    Tensor root = tensor.clone();
    world.broadcast({static_cast<std::byte*>(root.raw()), root.desc().get_size()});
    EXPECT_EQ(root.to_vector(), tensor.to_vector()) << name << " on rank " << world.rank();
  }
}

}  // namespace
}  // namespace qat
