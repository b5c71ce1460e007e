#pragma once
// BagOfWords: multinomial logistic regression on a text's term frequencies — the text-task baseline.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// Construction options.
struct BagOfWordsOptions {
  int64_t vocab = 0;
  int64_t num_classes = 0;
  int32_t pad_id = 0;  ///< token id of padding, which does not count as a word
};

/// logits = bias + Σ_t weight[id_t] / n over the n non-padding tokens of each sequence, i.e. a linear
/// classifier on the normalized bag-of-words vector, computed as an embedding lookup without forming it.
class BagOfWords : public Module {
 public:
  explicit BagOfWords(const BagOfWordsOptions& options);
  /// `x` holds s32 token ids [B, T]; returns logits [B, classes].
  Variable forward(const Variable& x) override;

 private:
  BagOfWordsOptions options_;
  Variable weight_, bias_;
};

}  // namespace qat
