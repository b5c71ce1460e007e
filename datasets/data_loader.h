#pragma once
// DataLoader: shuffled, augmented, normalized batches from an ImageDataset; deterministic by (seed, epoch).
#include <tbb/concurrent_queue.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "datasets/image_dataset.h"

namespace qat {

/// Loader settings (values come from the experiment config).
struct DataLoaderOptions {
  int64_t batch_size = 0;
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;
  int crop_padding = 0;       ///< random crop after zero padding by this many pixels (0 = off)
  bool flip = false;          ///< random horizontal flip
  std::vector<float> mean{};  ///< per-channel (one value = every channel); pixels are scaled to [0, 1] first
  std::vector<float> stddev{};  ///< per-channel, as mean
  int prefetch = 0;             ///< batches a background thread prepares ahead (0 = build each on demand)
  /// Data-parallel sharding: this loader yields part `shard` (0..shards-1) of every batch of batch_size
  /// examples, i.e. batch_size/shards of them; batch_size must be divisible by shards, and drop_last set.
  int shard = 0;
  int shards = 1;
};

/// Iterates a dataset in batches; the order and the augmentation of every sample depend only on
/// (seed, epoch, index), never on timing, so prefetching does not change results. The shards of one
/// epoch are disjoint and together are exactly the unsharded epoch.
class DataLoader {
 public:
  DataLoader(const ImageDataset& data, DataLoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  /// Starts an epoch: fixes its order.
  void start_epoch(int epoch);
  /// Fills the next batch (images f32 [B, C, H, W], labels s32 [B]); false at the end of the epoch.
  bool next(Tensor& images, Tensor& labels);
  /// Batches per epoch.
  int64_t batches_per_epoch() const;

 private:
  struct Batch {
    Tensor images, labels;
  };
  Batch make_batch(int64_t index, bool parallel) const;
  void load_sample(int64_t index, float* out) const;
  void start_producer();
  void stop_producer();

  const ImageDataset& data_;
  DataLoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t next_batch_ = 0;
  int epoch_ = 0;
  tbb::concurrent_bounded_queue<Batch> ready_;
  std::thread producer_;
  std::atomic<bool> stop_ = false, producer_done_ = false;
};

}  // namespace qat
