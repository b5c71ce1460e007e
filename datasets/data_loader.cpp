#include "datasets/data_loader.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

float channel_value(const std::vector<float>& values, int64_t channel, float fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values[0] : values.at(static_cast<size_t>(channel));
}

}  // namespace

DataLoader::DataLoader(const ImageDataset& data, DataLoaderOptions options)
    : data_(data), options_(std::move(options)) {
  QAT_CHECK(options_.batch_size > 0, "DataLoader: batch size must be positive, got ", options_.batch_size);
  const int64_t channels = data_.images.dim(1);
  for (const auto* values : {&options_.mean, &options_.stddev})
    QAT_CHECK(values->empty() || values->size() == 1 || static_cast<int64_t>(values->size()) == channels,
              "DataLoader: ", values->size(), " normalization values for ", channels, " channels");
  QAT_CHECK(options_.shards >= 1 && options_.shard >= 0 && options_.shard < options_.shards,
            "DataLoader: shard ", options_.shard, " of ", options_.shards, " does not exist");
  QAT_CHECK(options_.batch_size % options_.shards == 0, "DataLoader: batch size ", options_.batch_size,
            " does not split into ", options_.shards, " equal shards");
  QAT_CHECK(options_.shards == 1 || options_.drop_last,
            "DataLoader: sharding needs drop_last (every shard of every batch the same size)");
  QAT_CHECK(options_.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options_.prefetch);
  if (options_.prefetch > 0) ready_.set_capacity(options_.prefetch);
  start_epoch(0);
}

DataLoader::~DataLoader() { stop_producer(); }

void DataLoader::start_epoch(int epoch) {
  stop_producer();
  epoch_ = epoch;
  next_batch_ = 0;
  order_.resize(static_cast<size_t>(data_.size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle) {
    Generator gen(mix_seed(options_.seed ^ mix_seed(static_cast<uint64_t>(epoch) + 1)));
    for (int64_t i = data_.size() - 1; i > 0; --i) std::swap(order_[i], order_[gen.below(i + 1)]);
  }
  if (options_.prefetch > 0) start_producer();
}

// The producer builds the epoch's batches in order; its loops stay serial so that it never starts a
// second OpenMP team next to oneDNN's.
void DataLoader::start_producer() {
  producer_ = std::thread([this] {
    try {
      for (int64_t b = 0; b < batches_per_epoch() && !stop_; ++b) ready_.push(make_batch(b, false));
    } catch (const tbb::user_abort&) {
      // stop_producer() aborted a blocked push: the epoch was abandoned.
    }
    producer_done_ = true;
  });
}

// abort() only wakes a push that is already blocked, so it repeats until the producer has noticed stop_.
void DataLoader::stop_producer() {
  if (!producer_.joinable()) return;
  stop_ = true;
  while (!producer_done_) {
    ready_.abort();
    std::this_thread::yield();
  }
  producer_.join();
  ready_.clear();
  stop_ = false;
  producer_done_ = false;
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = data_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

bool DataLoader::next(Tensor& images, Tensor& labels) {
  if (next_batch_ >= batches_per_epoch()) return false;
  Batch batch;
  if (options_.prefetch > 0)
    ready_.pop(batch);
  else
    batch = make_batch(next_batch_, true);
  ++next_batch_;
  images = std::move(batch.images);
  labels = std::move(batch.labels);
  return true;
}

DataLoader::Batch DataLoader::make_batch(int64_t index, bool parallel) const {
  const int64_t shard_size = options_.batch_size / options_.shards;
  const int64_t first = index * options_.batch_size + options_.shard * shard_size;
  const int64_t count = std::min(data_.size() - first, shard_size);
  const Shape& shape = data_.images.shape();
  Batch batch{Tensor::empty({count, shape[1], shape[2], shape[3]}), Tensor::empty({count}, DType::s32)};
  const int64_t sample = shape[1] * shape[2] * shape[3];
  float* out = batch.images.data<float>();
  int32_t* out_labels = batch.labels.data<int32_t>();
#pragma omp parallel for if (parallel && count * sample > 65536)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t sample_index = order_[first + i];
    load_sample(sample_index, out + i * sample);
    out_labels[i] = data_.labels[sample_index];
  }
  return batch;
}

void DataLoader::load_sample(int64_t index, float* out) const {
  const Shape& shape = data_.images.shape();
  const int64_t channels = shape[1], h = shape[2], w = shape[3];
  const uint8_t* pixels = data_.images.data<uint8_t>() + index * channels * h * w;
  Generator gen(mix_seed(options_.seed ^
                         mix_seed((static_cast<uint64_t>(epoch_) << 32) + static_cast<uint64_t>(index))));
  const int pad = options_.crop_padding;
  const int64_t dy = pad > 0 ? gen.below(2 * pad + 1) - pad : 0;
  const int64_t dx = pad > 0 ? gen.below(2 * pad + 1) - pad : 0;
  const bool flip = options_.flip && gen.below(2) == 1;
  for (int64_t c = 0; c < channels; ++c) {
    const float mean = channel_value(options_.mean, c, 0.0f),
                scale = 1.0f / channel_value(options_.stddev, c, 1.0f);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
        const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        const float value = inside ? pixels[(c * h + sy) * w + sx] / 255.0f : 0.0f;
        out[(c * h + y) * w + x] = (value - mean) * scale;
      }
  }
}

}  // namespace qat
