#pragma once
// Embedding: a learned table of vectors looked up by token id.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// Construction options.
struct EmbeddingOptions {
  int64_t vocab = 0;  ///< number of rows (ids 0 .. vocab − 1)
  int64_t dim = 0;    ///< width of each vector
};

/// Table "weight" [vocab, dim], initialized N(0, 1) as PyTorch's nn.Embedding.
class Embedding : public Module {
 public:
  explicit Embedding(const EmbeddingOptions& options);
  /// `x` holds s32 ids of any shape; returns [ids..., dim].
  Variable forward(const Variable& x) override { return lookup(x.data()); }
  /// Rows for s32 `ids` of any shape: [ids..., dim].
  Variable lookup(const Tensor& ids);
  /// The options it was built with.
  const EmbeddingOptions& options() const { return options_; }

 private:
  EmbeddingOptions options_;
  Variable weight_;
};

}  // namespace qat
