#pragma once
// The unigram reference line of a causal LM: how well next-token prediction does without any context.
#include <cstdint>

#include "datasets/text/text_loader.h"

namespace qat {

/// Perplexity on `test`'s next-token targets (every token after a sequence's first) of the unigram model
/// fit on `train`'s targets with add-one smoothing over `vocab_size` ids; an LM that learned anything from
/// context beats it.
double unigram_perplexity(const TextDataset& train, const TextDataset& test, int64_t vocab_size);

}  // namespace qat
