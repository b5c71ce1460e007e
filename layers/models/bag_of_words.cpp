#include "layers/models/bag_of_words.h"

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/reduce.h"
#include "engine/error.h"

namespace qat {

BagOfWords::BagOfWords(const BagOfWordsOptions& options) : options_(options) {
  QAT_CHECK(options.vocab > 0 && options.num_classes > 0, "BagOfWords: vocab ", options.vocab,
            " and classes ", options.num_classes, " must be positive");
  weight_ = register_parameter("weight", Tensor::zeros({options.vocab, options.num_classes}));
  bias_ = register_parameter("bias", Tensor::zeros({options.num_classes}));
}

Variable BagOfWords::forward(const Variable& x) {
  const Tensor& ids = x.data();
  QAT_CHECK(ids.ndim() == 2 && ids.dtype() == DType::s32, "BagOfWords: expected s32 token ids [B, T], got ",
            ids.str());
  const int64_t batch = ids.dim(0), length = ids.dim(1);
  // Per-token weights 1/n (0 for padding), so the sum over positions is the mean over words.
  Tensor weights = Tensor::empty({batch, length, 1});
  const int32_t* id = ids.data<int32_t>();
  float* w = weights.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    int64_t words = 0;
    for (int64_t t = 0; t < length; ++t) words += id[b * length + t] != options_.pad_id;
    for (int64_t t = 0; t < length; ++t)
      w[b * length + t] = id[b * length + t] != options_.pad_id ? 1.0f / static_cast<float>(words) : 0.0f;
  }
  return sum(embedding(ids, weight_) * Variable(weights), {1}) + bias_;
}

}  // namespace qat
