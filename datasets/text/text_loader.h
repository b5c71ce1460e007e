#pragma once
// TextLoader: batches of token sequences for classification or masked-LM training, deterministic by
// (seed, epoch, index).
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/text/tokenizer.h"
#include "engine/tensor.h"

namespace qat {

/// Token sequences (each starting with [CLS] and ending with [SEP]) and, for classification, labels.
struct TextDataset {
  std::vector<std::vector<int32_t>> sequences;
  std::vector<int32_t> labels;  ///< empty for masked-LM data
  int num_classes = 0;

  /// Number of sequences.
  int64_t size() const { return static_cast<int64_t>(sequences.size()); }
};

/// [CLS] text [SEP] per text, cut to `max_length` tokens.
TextDataset encode_examples(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                            const std::vector<int32_t>& labels, int num_classes, int64_t max_length);
/// Language-model data: documents encoded and packed in order into sequences of at most `max_length`
/// tokens, [CLS] doc doc … [SEP], or with `separate_documents` [CLS] doc [SEP] doc [SEP] … [SEP] (a causal
/// LM then sees where a document starts instead of continuing the previous one); a document longer than a
/// sequence continues in the next one.
TextDataset pack_documents(const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                           int64_t max_length, bool separate_documents = false);

/// Loader settings.
struct TextLoaderOptions {
  int64_t batch_size = 0;
  bool shuffle = false;
  uint64_t seed = 0;
  float mlm_probability = 0.0f;  ///< > 0: masked-LM batches (targets per position), else class labels
  int32_t vocab_size = 0;        ///< for the random replacements of MLM
  bool next_token = false;       ///< causal-LM batches: targets [B, T], target t = token t + 1
};

/// Batches ids s32 [B, T] (T = the longest sequence of the batch rounded up to a multiple of kLengthStep,
/// at most the dataset's longest; the rest padded with [PAD]) and targets
/// (labels [B], or MLM or next-token targets [B, T] with -100 where nothing is predicted: unmasked
/// positions, the last token of a sequence, padding).
class TextLoader {
 public:
  TextLoader(const TextDataset& data, TextLoaderOptions options);
  /// Starts an epoch: fixes its order and its masks.
  void start_epoch(int epoch);
  /// Fills the next batch; false at the end of the epoch.
  bool next(Tensor& ids, Tensor& targets);
  /// Batches per epoch (the last one may be smaller).
  int64_t batches_per_epoch() const;

 private:
  const TextDataset& data_;
  TextLoaderOptions options_;
  static constexpr int64_t kLengthStep = 16;
  std::vector<int64_t> order_;
  int64_t longest_ = 0;
  int64_t position_ = 0;
  int epoch_ = 0;
};

}  // namespace qat
