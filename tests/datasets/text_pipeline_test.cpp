// Tokenizer (trained on real glosses), MLM masking statistics and the text loader's batches.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "datasets/text/mlm_masking.h"
#include "datasets/text/supersense_task.h"
#include "datasets/text/text_loader.h"
#include "datasets/text/tokenizer.h"
#include "datasets/text/unigram_reference.h"
#include "datasets/text/wordnet_glosses.h"
#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

std::vector<std::string> some_glosses(size_t count) {
  std::vector<std::string> texts;
  for (const Synset& s : load_wordnet_glosses()) {
    if (texts.size() == count) break;
    texts.push_back(s.gloss);
  }
  return texts;
}

TEST(Tokenizer, TrainsDeterministicallyAndRoundTrips) {
  QAT_REQUIRE_DATASET(std::filesystem::exists(kWordNetDir), "wordnet-base");
  const auto texts = some_glosses(3000);
  const Tokenizer a = Tokenizer::train(texts, 600), b = Tokenizer::train(texts, 600);
  EXPECT_EQ(a.serialized(), b.serialized());
  EXPECT_EQ(a.vocab_size(), 600);
  const std::string text = "a living organism characterized by voluntary movement";
  const std::vector<int32_t> ids = a.encode(text);
  EXPECT_GT(ids.size(), 3u);
  for (int32_t id : ids) EXPECT_GE(id, SpecialTokens::kUnk);
  EXPECT_EQ(a.decode(ids), text);
  const Tokenizer loaded = Tokenizer::from_serialized(a.serialized(), "test");
  EXPECT_EQ(loaded.encode(text), ids);
  EXPECT_THROW(Tokenizer::from_serialized("garbage", "test"), Error);
}

TEST(MlmMasking, MasksFifteenPercentAs80_10_10) {
  Generator gen(1);
  int64_t candidates = 0, picked = 0, masked = 0, kept = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int32_t> ids{SpecialTokens::kCls};
    for (int i = 0; i < 500; ++i)
      ids.push_back(static_cast<int32_t>(SpecialTokens::kCount + gen.below(1000)));
    ids.push_back(SpecialTokens::kSep);
    ids.push_back(SpecialTokens::kPad);
    const std::vector<int32_t> original = ids;
    const std::vector<int32_t> targets = mask_tokens(ids, 0.15f, 1005, gen);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (original[i] < SpecialTokens::kCount) {
        EXPECT_EQ(targets[i], -100);
        EXPECT_EQ(ids[i], original[i]);
        continue;
      }
      ++candidates;
      if (targets[i] == -100) {
        EXPECT_EQ(ids[i], original[i]);
        continue;
      }
      EXPECT_EQ(targets[i], original[i]);
      ++picked;
      masked += ids[i] == SpecialTokens::kMask;
      kept += ids[i] == original[i];
    }
  }
  // 100,000 candidates: binomial standard deviations are about 0.1% of the rates below.
  EXPECT_NEAR(static_cast<double>(picked) / candidates, 0.15, 0.005);
  EXPECT_NEAR(static_cast<double>(masked) / picked, 0.8, 0.01);
  EXPECT_NEAR(static_cast<double>(kept) / picked, 0.1, 0.01);
}

TEST(TextLoader, PadsToALengthStepAndMasksDeterministically) {
  // Batches pad to the longest sequence rounded up to a multiple of 16, at most the dataset's longest.
  const std::vector<int32_t> long_a(20, 7), long_b(40, 7);
  const TextDataset lengths{{long_a, long_b}, {0, 1}, 2};
  TextLoader stepped(lengths, {.batch_size = 1});
  Tensor ids, targets;
  ASSERT_TRUE(stepped.next(ids, targets));
  EXPECT_EQ(ids.shape(), (Shape{1, 32}));
  EXPECT_EQ(ids.data<int32_t>()[20], SpecialTokens::kPad);
  ASSERT_TRUE(stepped.next(ids, targets));
  EXPECT_EQ(ids.shape(), (Shape{1, 40}));

  TextDataset data;
  data.sequences = {{2, 10, 11, 3}, {2, 12, 3}, {2, 13, 14, 15, 16, 3}};
  const TextDataset labelled{data.sequences, {0, 1, 2}, 3};
  TextLoader classify(labelled, {.batch_size = 2});
  ASSERT_TRUE(classify.next(ids, targets));
  EXPECT_EQ(ids.shape(), (Shape{2, 6}));
  EXPECT_EQ(ids.data<int32_t>()[4], SpecialTokens::kPad);
  EXPECT_EQ(ids.data<int32_t>()[6 + 3], SpecialTokens::kPad);
  EXPECT_EQ(targets.shape(), (Shape{2}));
  ASSERT_TRUE(classify.next(ids, targets));
  EXPECT_EQ(ids.shape(), (Shape{1, 6}));
  EXPECT_FALSE(classify.next(ids, targets));

  const TextLoaderOptions mlm{
      .batch_size = 3, .shuffle = true, .seed = 4, .mlm_probability = 0.5f, .vocab_size = 20};
  TextLoader a(data, mlm), b(data, mlm);
  Tensor ia, ta, ib, tb;
  a.start_epoch(2);
  b.start_epoch(2);
  ASSERT_TRUE(a.next(ia, ta));
  ASSERT_TRUE(b.next(ib, tb));
  EXPECT_EQ(ta.shape(), (Shape{3, 6}));
  EXPECT_EQ(std::vector<int32_t>(ia.data<int32_t>(), ia.data<int32_t>() + 18),
            std::vector<int32_t>(ib.data<int32_t>(), ib.data<int32_t>() + 18));
  EXPECT_EQ(std::vector<int32_t>(ta.data<int32_t>(), ta.data<int32_t>() + 18),
            std::vector<int32_t>(tb.data<int32_t>(), tb.data<int32_t>() + 18));
}

TEST(TextLoader, PackingKeepsEveryTokenInOrder) {
  QAT_REQUIRE_DATASET(std::filesystem::exists(kWordNetDir), "wordnet-base");
  const auto texts = some_glosses(500);
  const Tokenizer tokenizer = Tokenizer::train(texts, 300);
  const TextDataset packed = pack_documents(tokenizer, texts, 16);
  std::vector<int32_t> all, unpacked;
  for (const std::string& t : texts)
    for (int32_t id : tokenizer.encode(t)) all.push_back(id);
  for (const auto& s : packed.sequences) {
    EXPECT_LE(s.size(), 16u);
    EXPECT_EQ(s.front(), SpecialTokens::kCls);
    EXPECT_EQ(s.back(), SpecialTokens::kSep);
    unpacked.insert(unpacked.end(), s.begin() + 1, s.end() - 1);
  }
  EXPECT_EQ(unpacked, all);
}

TEST(TextLoader, SeparatedPackingEndsEveryDocument) {
  QAT_REQUIRE_DATASET(std::filesystem::exists(kWordNetDir), "wordnet-base");
  const auto texts = some_glosses(200);
  const Tokenizer tokenizer = Tokenizer::train(texts, 300);
  std::vector<int32_t> all;
  for (const std::string& t : texts) {
    for (int32_t id : tokenizer.encode(t)) all.push_back(id);
    all.push_back(SpecialTokens::kSep);
  }
  std::vector<int32_t> unpacked;
  for (const auto& s : pack_documents(tokenizer, texts, 16, true).sequences) {
    EXPECT_EQ(s.front(), SpecialTokens::kCls);
    EXPECT_EQ(s.back(), SpecialTokens::kSep);
    unpacked.insert(unpacked.end(), s.begin() + 1, s.end() - 1);
  }
  EXPECT_EQ(unpacked, all);
}

TEST(UnigramReference, AddOneSmoothedTrainFrequenciesOnTheTestTargets) {
  const TextDataset train{.sequences = {{2, 5, 5, 6, 3}}, .labels = {}, .num_classes = 0};
  const TextDataset test{.sequences = {{2, 5, 7}}, .labels = {}, .num_classes = 0};
  // Targets 5, 5, 6, 3 plus one of each of 8 ids: p(5) = 3/12, p(7) = 1/12; the first token is no target.
  EXPECT_NEAR(unigram_perplexity(train, test, 8), std::sqrt(12.0 / 3.0 * 12.0), 1e-12);
  const std::string e = test::error_of([&] { unigram_perplexity(train, test, 7); });
  EXPECT_NE(e.find("unigram_perplexity: id 7 outside the vocabulary of 7"), std::string::npos) << e;
}

}  // namespace
}  // namespace qat
