#include "datasets/text/unigram_reference.h"

#include <cmath>
#include <vector>

#include "engine/error.h"

namespace qat {
namespace {

// Calls f(id) for every next-token target: each token after its sequence's first.
template <typename F>
void for_each_target(const TextDataset& data, F f) {
  for (const auto& sequence : data.sequences)
    for (size_t i = 1; i < sequence.size(); ++i) f(sequence[i]);
}

}  // namespace

double unigram_perplexity(const TextDataset& train, const TextDataset& test, int64_t vocab_size) {
  QAT_CHECK(vocab_size > 0, "unigram_perplexity: vocab_size ", vocab_size, " must be positive");
  std::vector<double> counts(static_cast<size_t>(vocab_size), 1.0);
  double total = static_cast<double>(vocab_size);
  auto check = [vocab_size](int32_t id) {
    QAT_CHECK(id >= 0 && id < vocab_size, "unigram_perplexity: id ", id, " outside the vocabulary of ",
              vocab_size);
  };
  for_each_target(train, [&](int32_t id) {
    check(id);
    counts[static_cast<size_t>(id)] += 1.0;
    total += 1.0;
  });
  double log_likelihood = 0.0;
  int64_t targets = 0;
  for_each_target(test, [&](int32_t id) {
    check(id);
    log_likelihood += std::log(counts[static_cast<size_t>(id)] / total);
    ++targets;
  });
  QAT_CHECK(targets > 0, "unigram_perplexity: the test data has no next-token target");
  return std::exp(-log_likelihood / static_cast<double>(targets));
}

}  // namespace qat
