#include "layers/embedding.h"

#include "autograd/ops/embedding.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {

Embedding::Embedding(const EmbeddingOptions& options) : options_(options) {
  QAT_CHECK(options.vocab > 0 && options.dim > 0, "Embedding: vocab ", options.vocab, " and dim ",
            options.dim, " must be positive");
  weight_ = register_parameter("weight", global_generator().normal_tensor({options.vocab, options.dim}));
}

Variable Embedding::lookup(const Tensor& ids) {
  QAT_CHECK(ids.defined() && ids.dtype() == DType::s32, "Embedding: ids ", ids.str(),
            " must be s32 token ids (table [", options_.vocab, ", ", options_.dim, "])");
  return embedding(ids, weight_);
}

}  // namespace qat
