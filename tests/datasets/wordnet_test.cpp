// WordNet glosses from Debian's wordnet-base, the fixed supersense split, and the fortunes corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "datasets/text/fortunes_corpus.h"
#include "datasets/text/supersense_task.h"
#include "datasets/text/wordnet_glosses.h"
#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

const std::vector<Synset>& wordnet() {
  static const std::vector<Synset> synsets = load_wordnet_glosses();
  return synsets;
}

TEST(WordNetGlosses, ReadsEverySynsetOfWordNet30) {
  QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
  EXPECT_EQ(wordnet().size(), 117659u);  // WordNet 3.0: 82,115 nouns, 13,767 verbs, 18,156 adj., 3,621 adv.
  std::set<int> labels;
  for (const Synset& s : wordnet()) labels.insert(s.lex_file);
  EXPECT_EQ(labels.size(), 45u);
  const Synset& entity = wordnet().front();
  EXPECT_EQ(entity.offset, 1740u);
  EXPECT_EQ(entity.pos, 'n');
  EXPECT_EQ(entity.lex_file, 3);  // noun.Tops
  EXPECT_EQ(entity.gloss,
            "that which is perceived or known or inferred to have its own distinct existence (living or "
            "nonliving)");
}

TEST(WordNetGlosses, ErrorsNameTheFileAndLine) {
  const fs::path dir = fs::temp_directory_path() / ("qat_wordnet_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* part : {"noun", "verb", "adj", "adv"})
    std::ofstream(dir / (std::string("data.") + part)) << "";
  std::ofstream(dir / "data.verb") << "  license line\n00001740 99 v 01 breathe 0 | draw air\n";
  try {
    load_wordnet_glosses(dir.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.verb line 2"), std::string::npos) << e.what();
  }
  try {
    load_wordnet_glosses((dir / "missing").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wordnet-base"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SupersenseTask, SplitIsFixedDisjointAndAbout80_10_10) {
  QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
  const auto train = supersense_examples(wordnet(), TextSplit::train);
  const auto valid = supersense_examples(wordnet(), TextSplit::valid);
  const auto test = supersense_examples(wordnet(), TextSplit::test);
  EXPECT_EQ(train.size() + valid.size() + test.size(), wordnet().size());
  EXPECT_NEAR(static_cast<double>(test.size()) / wordnet().size(), 0.1, 0.01);
  EXPECT_NEAR(static_cast<double>(valid.size()) / wordnet().size(), 0.1, 0.01);
  // The split of a synset depends on the synset alone.
  Synset copy = wordnet()[12345];
  EXPECT_EQ(synset_split(copy), synset_split(wordnet()[12345]));
  copy.gloss = "changed";
  EXPECT_EQ(synset_split(copy), synset_split(wordnet()[12345]));
}

TEST(FortunesCorpus, ReadsDocuments) {
  QAT_REQUIRE_DATASET(fs::exists(kFortunesDir), "fortunes");
  const auto documents = load_fortunes();
  EXPECT_GT(documents.size(), 1000u);
  for (const std::string& d : documents) ASSERT_FALSE(d.empty());
  EXPECT_TRUE(load_fortunes("/nonexistent").empty());
}

}  // namespace
}  // namespace qat
