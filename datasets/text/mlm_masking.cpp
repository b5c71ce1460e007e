#include "datasets/text/mlm_masking.h"

#include "datasets/text/tokenizer.h"

namespace qat {

std::vector<int32_t> mask_tokens(std::vector<int32_t>& ids, float probability, int32_t vocab_size,
                                 Generator& gen) {
  std::vector<int32_t> targets(ids.size(), -100);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < SpecialTokens::kCount || gen.uniform() >= probability) continue;
    targets[i] = ids[i];
    const float kind = gen.uniform();
    if (kind < 0.8f)
      ids[i] = SpecialTokens::kMask;
    else if (kind < 0.9f)
      ids[i] = static_cast<int32_t>(SpecialTokens::kCount + gen.below(vocab_size - SpecialTokens::kCount));
  }
  return targets;
}

}  // namespace qat
