#include "datasets/text/supersense_task.h"

#include "engine/random.h"

namespace qat {
TextSplit synset_split(const Synset& synset) {
  const uint64_t bucket = mix_seed((static_cast<uint64_t>(synset.pos) << 32) | synset.offset) % 10;
  return bucket == 0 ? TextSplit::test : (bucket == 1 ? TextSplit::valid : TextSplit::train);
}

std::vector<TextExample> supersense_examples(const std::vector<Synset>& synsets, TextSplit split) {
  std::vector<TextExample> examples;
  for (const Synset& s : synsets)
    if (synset_split(s) == split) examples.push_back({s.gloss, s.lex_file});
  return examples;
}

}  // namespace qat
