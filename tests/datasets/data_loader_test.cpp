#include "datasets/data_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/error.h"

namespace qat {
namespace {

// 10 single-channel 4x4 images; image i has every pixel equal to 10·i, label i.
ImageDataset ramp() {
  ImageDataset data;
  data.images = Tensor::empty({10, 1, 4, 4}, DType::u8);
  for (int i = 0; i < 10; ++i) {
    std::fill_n(data.images.data<uint8_t>() + int64_t{16} * i, 16, static_cast<uint8_t>(10 * i));
    data.labels.push_back(i);
  }
  data.num_classes = 10;
  return data;
}

std::vector<int32_t> epoch_labels(DataLoader& loader, int epoch) {
  loader.start_epoch(epoch);
  std::vector<int32_t> out;
  Tensor images, labels;
  while (loader.next(images, labels))
    for (int64_t i = 0; i < labels.numel(); ++i) out.push_back(labels.data<int32_t>()[i]);
  return out;
}

TEST(DataLoader, ShuffleIsAPermutationFixedBySeedAndEpoch) {
  const ImageDataset data = ramp();
  DataLoader a(data, {.batch_size = 3, .shuffle = true, .seed = 5});
  DataLoader b(data, {.batch_size = 3, .shuffle = true, .seed = 5});
  const auto first = epoch_labels(a, 0);
  std::vector<int32_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, data.labels);
  EXPECT_EQ(epoch_labels(b, 0), first);
  EXPECT_NE(epoch_labels(a, 1), first);
  EXPECT_EQ(epoch_labels(a, 0), first);
  EXPECT_EQ(a.batches_per_epoch(), 4);
}

TEST(DataLoader, DropLastAndNormalization) {
  const ImageDataset data = ramp();
  DataLoader loader(data, {.batch_size = 4, .drop_last = true, .mean = {0.5f}, .stddev = {0.25f}});
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  Tensor images, labels;
  ASSERT_TRUE(loader.next(images, labels));
  EXPECT_EQ(images.shape(), (Shape{4, 1, 4, 4}));
  EXPECT_FLOAT_EQ(images.data<float>()[int64_t{16} * 3], (30.0f / 255.0f - 0.5f) / 0.25f);
  ASSERT_TRUE(loader.next(images, labels));
  EXPECT_FALSE(loader.next(images, labels));
}

TEST(DataLoader, CropPadsWithZerosAndFlipMirrors) {
  ImageDataset data;
  data.images = Tensor::zeros({1, 1, 1, 3}, DType::u8);
  data.images.data<uint8_t>()[0] = 255;  // a single bright pixel at the left
  data.labels = {0};
  std::set<std::vector<float>> seen;
  for (int epoch = 0; epoch < 40; ++epoch) {
    DataLoader loader(data, {.batch_size = 1, .seed = 1, .crop_padding = 1, .flip = true});
    loader.start_epoch(epoch);
    Tensor images, labels;
    loader.next(images, labels);
    seen.insert(images.to_vector());
  }
  // Shifts of −1/0/+1 and flips place the pixel anywhere or push it out, and nothing else appears.
  for (const auto& v : seen) EXPECT_LE(std::count(v.begin(), v.end(), 1.0f), 1);
  EXPECT_TRUE(seen.count({0.0f, 0.0f, 1.0f}));  // mirrored
  EXPECT_TRUE(seen.count({0.0f, 0.0f, 0.0f}));  // shifted out, zero padding
  EXPECT_GE(seen.size(), 3u);
}

// Data-parallel shards: each batch of shard r is part r of the unsharded batch, augmentation included, so
// the shards of an epoch are disjoint and together are exactly the unsharded epoch.
TEST(DataLoader, ShardsSplitEveryBatchDisjointlyAndCoverTheEpoch) {
  const ImageDataset data = ramp();
  const DataLoaderOptions whole{
      .batch_size = 4, .shuffle = true, .drop_last = true, .seed = 3, .crop_padding = 1, .flip = true};
  DataLoaderOptions first = whole, second = whole;
  first.shards = second.shards = 2;
  second.shard = 1;
  DataLoader all(data, whole), a(data, first), b(data, second);
  EXPECT_EQ(a.batches_per_epoch(), all.batches_per_epoch());
  for (int epoch : {0, 1}) {
    for (DataLoader* loader : {&all, &a, &b}) loader->start_epoch(epoch);
    Tensor images, labels, ia, la, ib, lb;
    std::set<int32_t> seen;
    while (all.next(images, labels)) {
      ASSERT_TRUE(a.next(ia, la));
      ASSERT_TRUE(b.next(ib, lb));
      ASSERT_EQ(la.numel(), 2);
      ASSERT_EQ(lb.numel(), 2);
      std::vector<float> joined = ia.to_vector();
      const std::vector<float> tail = ib.to_vector();
      joined.insert(joined.end(), tail.begin(), tail.end());
      EXPECT_EQ(joined, images.to_vector());
      for (const Tensor* shard : {&la, &lb})
        for (int i = 0; i < 2; ++i) EXPECT_TRUE(seen.insert(shard->data<int32_t>()[i]).second);
    }
    EXPECT_FALSE(a.next(ia, la));
    EXPECT_FALSE(b.next(ib, lb));
    EXPECT_EQ(seen.size(), 8u);  // two full batches of the 10 examples, none twice
  }
}

TEST(DataLoader, ShardingNeedsADivisibleBatchAndDropLast) {
  const ImageDataset data = ramp();
  EXPECT_THROW(DataLoader(data, {.batch_size = 3, .drop_last = true, .shards = 2}), Error);
  EXPECT_THROW(DataLoader(data, {.batch_size = 4, .drop_last = false, .shards = 2}), Error);
  EXPECT_THROW(DataLoader(data, {.batch_size = 4, .drop_last = true, .shard = 2, .shards = 2}), Error);
}

// A background producer yields exactly the batches of the synchronous loader, also when an epoch is
// abandoned half-way and another started.
TEST(DataLoader, PrefetchDoesNotChangeBatches) {
  const ImageDataset data = ramp();
  const DataLoaderOptions sync{.batch_size = 3, .shuffle = true, .seed = 9, .crop_padding = 1, .flip = true};
  DataLoaderOptions ahead = sync;
  ahead.prefetch = 2;
  DataLoader a(data, sync), b(data, ahead);
  Tensor images, labels;
  b.start_epoch(4);
  ASSERT_TRUE(b.next(images, labels));  // abandon epoch 4 with batches still queued
  for (int epoch : {0, 1}) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    Tensor ia, la, ib, lb;
    int batches = 0;
    while (a.next(ia, la)) {
      ASSERT_TRUE(b.next(ib, lb));
      EXPECT_EQ(ia.to_vector(), ib.to_vector());
      EXPECT_EQ(std::vector<int32_t>(la.data<int32_t>(), la.data<int32_t>() + la.numel()),
                std::vector<int32_t>(lb.data<int32_t>(), lb.data<int32_t>() + lb.numel()));
      ++batches;
    }
    EXPECT_FALSE(b.next(ib, lb));
    EXPECT_EQ(batches, 4);
  }
}

TEST(DataLoader, RejectsBadOptions) {
  const ImageDataset data = ramp();
  EXPECT_THROW(DataLoader(data, {.batch_size = 0}), Error);
  EXPECT_THROW(DataLoader(data, {.batch_size = 2, .mean = {0.1f, 0.2f}}), Error);
}

}  // namespace
}  // namespace qat
