#include "experiments/text_pipeline.h"

#include <cstdio>
#include <filesystem>

#include "datasets/text/fortunes_corpus.h"
#include "datasets/text/supersense_task.h"
#include "datasets/text/unigram_reference.h"
#include "datasets/text/wordnet_glosses.h"
#include "engine/error.h"
#include "engine/random.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

struct Corpus {
  std::vector<std::string> train, test;
  std::vector<int32_t> train_labels, test_labels;
};

// The fortunes held out for measuring MLM perplexity: every document whose index hashes to 0 mod 20.
bool held_out(size_t index) { return mix_seed(index) % 20 == 0; }

Corpus mlm_corpus(const std::string& dir) {
  Corpus c;
  for (const Synset& s : dir.empty() ? load_wordnet_glosses() : load_wordnet_glosses(dir)) {
    const TextSplit split = synset_split(s);
    if (split == TextSplit::train) c.train.push_back(s.gloss);
    if (split == TextSplit::valid) c.test.push_back(s.gloss);  // the supersense test split stays unseen
  }
  const std::vector<std::string> fortunes = load_fortunes();
  for (size_t i = 0; i < fortunes.size(); ++i) (held_out(i) ? c.test : c.train).push_back(fortunes[i]);
  return c;
}

Corpus supersense_corpus(const std::string& dir) {
  const std::vector<Synset> synsets = dir.empty() ? load_wordnet_glosses() : load_wordnet_glosses(dir);
  Corpus c;
  for (const TextExample& e : supersense_examples(synsets, TextSplit::train)) {
    c.train.push_back(e.text);
    c.train_labels.push_back(e.label);
  }
  for (const TextExample& e : supersense_examples(synsets, TextSplit::test)) {
    c.test.push_back(e.text);
    c.test_labels.push_back(e.label);
  }
  return c;
}

Tokenizer load_or_train(const std::map<std::string, Tensor>& assets, const std::vector<std::string>& texts,
                        int vocab_size) {
  const auto it = assets.find("tokenizer");
  if (it != assets.end()) {
    const Tensor& bytes = it->second;
    return Tokenizer::from_serialized(
        std::string(reinterpret_cast<const char*>(bytes.data<uint8_t>()), static_cast<size_t>(bytes.numel())),
        "checkpoint asset");
  }
  std::fprintf(stderr, "text: training a %d-piece tokenizer on %zu texts\n", vocab_size, texts.size());
  return Tokenizer::train(texts, vocab_size);
}

// `limit` items spread evenly over the list: WordNet's files are sorted by part of speech (and so by
// label), so a prefix would hold a few classes only.
template <typename T>
std::vector<T> evenly_spaced(const std::vector<T>& items, int64_t limit) {
  const auto n = static_cast<int64_t>(items.size());
  if (limit <= 0 || limit >= n) return items;
  std::vector<T> out;
  out.reserve(static_cast<size_t>(limit));
  for (int64_t i = 0; i < limit; ++i) out.push_back(items[static_cast<size_t>(i * n / limit)]);
  return out;
}

}  // namespace

TextPipeline::TextPipeline(const config::Experiment& e, const std::map<std::string, Tensor>& assets) {
  const auto& d = e.data();
  const bool lm = d.dataset() == "wordnet_lm";
  const bool mlm = d.dataset() == "wordnet_mlm" || lm;  // the same documents, packed
  QAT_CHECK(d.dir().empty() || std::filesystem::is_directory(d.dir()), "data.dir: ", d.dir(),
            ": no such directory (the WordNet dict directory of data.dataset '", d.dataset(), "')");
  Corpus c = mlm ? mlm_corpus(d.dir()) : supersense_corpus(d.dir());
  // Limits cut texts (documents or glosses) before anything is trained on them.
  c.train = evenly_spaced(c.train, d.train_limit());
  c.test = evenly_spaced(c.test, d.test_limit());
  if (!mlm) {
    c.train_labels = evenly_spaced(c.train_labels, d.train_limit());
    c.test_labels = evenly_spaced(c.test_labels, d.test_limit());
  }
  const bool borrowed = !assets.count("tokenizer") && !d.tokenizer_from().empty();
  tokenizer_.emplace(load_or_train(borrowed ? load_checkpoint(d.tokenizer_from()).assets : assets, c.train,
                                   e.model().vocab_size()));
  const Tokenizer& tokenizer = *tokenizer_;
  QAT_CHECK(tokenizer.vocab_size() == e.model().vocab_size(), "model.vocab_size: ", e.model().vocab_size(),
            " but the tokenizer has ", tokenizer.vocab_size(), " pieces");
  const int64_t length = e.model().max_length();
  if (mlm) {
    const bool separate = lm && d.separate_documents();
    train_set_ = pack_documents(tokenizer, c.train, length, separate);
    test_set_ = pack_documents(tokenizer, c.test, length, separate);
  } else {
    train_set_ = encode_examples(tokenizer, c.train, c.train_labels, kLexFiles, length);
    test_set_ = encode_examples(tokenizer, c.test, c.test_labels, kLexFiles, length);
  }
  if (lm)
    references_["unigram_perplexity"] = unigram_perplexity(train_set_, test_set_, tokenizer.vocab_size());
  const float masking = mlm && !lm ? d.mlm_probability() : 0.0f;
  train_loader_ =
      std::make_unique<TextLoader>(train_set_, TextLoaderOptions{.batch_size = e.train().batch_size(),
                                                                 .shuffle = true,
                                                                 .seed = e.seed(),
                                                                 .mlm_probability = masking,
                                                                 .vocab_size = tokenizer.vocab_size(),
                                                                 .next_token = lm});
  // Test masks are fixed by the seed alone, so every evaluation scores the same positions.
  test_loader_ =
      std::make_unique<TextLoader>(test_set_, TextLoaderOptions{.batch_size = e.train().eval_batch_size(),
                                                                .shuffle = false,
                                                                .seed = e.seed(),
                                                                .mlm_probability = masking,
                                                                .vocab_size = tokenizer.vocab_size(),
                                                                .next_token = lm});
  train_batches_ = std::make_unique<TokenBatches>(*train_loader_);
  test_batches_ = std::make_unique<TokenBatches>(*test_loader_);
}

std::map<std::string, Tensor> TextPipeline::assets() const {
  const std::string& bytes = tokenizer_->serialized();
  Tensor t = Tensor::empty({static_cast<int64_t>(bytes.size())}, DType::u8);
  std::copy(bytes.begin(), bytes.end(), t.data<uint8_t>());
  return {{"tokenizer", t}};
}

}  // namespace qat
