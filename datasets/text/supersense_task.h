#pragma once
// The supersense task: predict a WordNet synset's lexicographer file (45 classes) from its gloss, with a
// fixed split by synset.
#include <string>
#include <vector>

#include "datasets/text/wordnet_glosses.h"

namespace qat {

/// Which part of a fixed split an example belongs to.
enum class TextSplit { train, valid, test };

/// The split of a synset: a hash of (part of speech, offset) mod 10 — 0 test, 1 valid, 2–9 train — so
/// it never depends on file order or on which other synsets are loaded.
TextSplit synset_split(const Synset& synset);

/// A labelled text.
struct TextExample {
  std::string text;
  int label = 0;
};

/// The (gloss, lexicographer file) pairs of one split.
std::vector<TextExample> supersense_examples(const std::vector<Synset>& synsets, TextSplit split);

}  // namespace qat
