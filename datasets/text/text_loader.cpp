#include "datasets/text/text_loader.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "datasets/text/mlm_masking.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
TextDataset encode_examples(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                            const std::vector<int32_t>& labels, int num_classes, int64_t max_length) {
  QAT_CHECK(texts.size() == labels.size(), "encode_examples: ", texts.size(), " texts but ", labels.size(),
            " labels");
  QAT_CHECK(max_length >= 3, "encode_examples: max_length ", max_length, " leaves no room for text");
  TextDataset data{.sequences = {}, .labels = labels, .num_classes = num_classes};
  for (const std::string& text : texts) {
    std::vector<int32_t> ids = tokenizer.encode(text);
    ids.resize(std::min<size_t>(ids.size(), static_cast<size_t>(max_length - 2)));
    ids.insert(ids.begin(), SpecialTokens::kCls);
    ids.push_back(SpecialTokens::kSep);
    data.sequences.push_back(std::move(ids));
  }
  return data;
}

TextDataset pack_documents(const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                           int64_t max_length, bool separate_documents) {
  QAT_CHECK(max_length >= 3, "pack_documents: max_length ", max_length, " leaves no room for text");
  TextDataset data;
  std::vector<int32_t> current{SpecialTokens::kCls};
  auto append = [&](int32_t id) {
    current.push_back(id);
    if (static_cast<int64_t>(current.size()) == max_length - 1) {
      current.push_back(SpecialTokens::kSep);
      data.sequences.push_back(std::exchange(current, {SpecialTokens::kCls}));
    }
  };
  for (const std::string& document : documents) {
    for (const int32_t id : tokenizer.encode(document)) append(id);
    if (separate_documents) append(SpecialTokens::kSep);
  }
  if (current.size() > 1) {
    current.push_back(SpecialTokens::kSep);
    data.sequences.push_back(std::move(current));
  }
  return data;
}

TextLoader::TextLoader(const TextDataset& data, TextLoaderOptions options) : data_(data), options_(options) {
  QAT_CHECK(options_.batch_size > 0, "TextLoader: batch size must be positive, got ", options_.batch_size);
  QAT_CHECK(!options_.next_token || options_.mlm_probability <= 0.0f,
            "TextLoader: a batch is masked-LM or next-token, not both");
  QAT_CHECK(
      options_.mlm_probability > 0.0f || options_.next_token || data_.labels.size() == data_.sequences.size(),
      "TextLoader: classification data needs one label per sequence");
  QAT_CHECK(options_.mlm_probability <= 0.0f || options_.vocab_size > SpecialTokens::kCount,
            "TextLoader: masked-LM batches need the vocabulary size");
  for (const auto& sequence : data_.sequences)
    longest_ = std::max<int64_t>(longest_, static_cast<int64_t>(sequence.size()));
  start_epoch(0);
}

void TextLoader::start_epoch(int epoch) {
  epoch_ = epoch;
  position_ = 0;
  order_.resize(static_cast<size_t>(data_.size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (!options_.shuffle) return;
  Generator gen(mix_seed(options_.seed ^ mix_seed(static_cast<uint64_t>(epoch) + 1)));
  for (int64_t i = data_.size() - 1; i > 0; --i) std::swap(order_[i], order_[gen.below(i + 1)]);
}

int64_t TextLoader::batches_per_epoch() const {
  return (data_.size() + options_.batch_size - 1) / options_.batch_size;
}

bool TextLoader::next(Tensor& ids, Tensor& targets) {
  const int64_t count = std::min(data_.size() - position_, options_.batch_size);
  if (count <= 0) return false;
  int64_t length = 0;
  for (int64_t i = 0; i < count; ++i)
    length = std::max<int64_t>(length, static_cast<int64_t>(data_.sequences[order_[position_ + i]].size()));
  // Lengths rounded up to a multiple of kLengthStep: a handful of batch shapes instead of one per length
  // keeps the primitive cache and the storage pool bounded (one shape per length grew memory to 24 GB).
  length = std::min(longest_, (length + kLengthStep - 1) / kLengthStep * kLengthStep);
  const bool mlm = options_.mlm_probability > 0.0f;
  const bool per_token = mlm || options_.next_token;
  ids = Tensor::zeros({count, length}, DType::s32);
  targets = per_token ? Tensor::empty({count, length}, DType::s32) : Tensor::empty({count}, DType::s32);
  if (per_token) std::fill_n(targets.data<int32_t>(), count * length, -100);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = order_[position_ + i];
    std::vector<int32_t> sequence = data_.sequences[index];
    if (mlm) {
      Generator gen(mix_seed(options_.seed ^
                             mix_seed((static_cast<uint64_t>(epoch_) << 32) + static_cast<uint64_t>(index))));
      const std::vector<int32_t> t =
          mask_tokens(sequence, options_.mlm_probability, options_.vocab_size, gen);
      std::copy(t.begin(), t.end(), targets.data<int32_t>() + i * length);
    } else if (options_.next_token) {
      std::copy(sequence.begin() + 1, sequence.end(), targets.data<int32_t>() + i * length);
    } else {
      targets.data<int32_t>()[i] = data_.labels[index];
    }
    std::copy(sequence.begin(), sequence.end(), ids.data<int32_t>() + i * length);
  }
  position_ += count;
  return true;
}

}  // namespace qat
