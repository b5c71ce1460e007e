#include "datasets/data_loader.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

// SplitMix64: decorrelates the (seed, epoch, index) triple into a generator seed.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

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
  start_epoch(0);
}

void DataLoader::start_epoch(int epoch) {
  epoch_ = epoch;
  position_ = 0;
  order_.resize(static_cast<size_t>(data_.size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (!options_.shuffle) return;
  Generator gen(mix(options_.seed ^ mix(static_cast<uint64_t>(epoch) + 1)));
  for (int64_t i = data_.size() - 1; i > 0; --i) std::swap(order_[i], order_[gen.below(i + 1)]);
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = data_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

bool DataLoader::next(Tensor& images, Tensor& labels) {
  const int64_t remaining = data_.size() - position_;
  const int64_t count = std::min(remaining, options_.batch_size);
  if (count <= 0 || (options_.drop_last && count < options_.batch_size)) return false;
  const Shape& shape = data_.images.shape();
  images = Tensor::empty({count, shape[1], shape[2], shape[3]});
  labels = Tensor::empty({count}, DType::s32);
  const int64_t sample = shape[1] * shape[2] * shape[3];
  float* out = images.data<float>();
  int32_t* out_labels = labels.data<int32_t>();
#pragma omp parallel for if (count * sample > 65536)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = order_[position_ + i];
    load_sample(index, out + i * sample);
    out_labels[i] = data_.labels[index];
  }
  position_ += count;
  return true;
}

void DataLoader::load_sample(int64_t index, float* out) {
  const Shape& shape = data_.images.shape();
  const int64_t channels = shape[1], h = shape[2], w = shape[3];
  const uint8_t* pixels = data_.images.data<uint8_t>() + index * channels * h * w;
  Generator gen(
      mix(options_.seed ^ mix((static_cast<uint64_t>(epoch_) << 32) + static_cast<uint64_t>(index))));
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
