#pragma once
// TextPipeline: WordNet / fortunes text as masked-LM or supersense-classification batches.
#include <memory>
#include <optional>

#include "datasets/text/text_loader.h"
#include "datasets/text/tokenizer.h"
#include "experiments/data_pipeline.h"
#include "trainers/token_batches.h"

namespace qat {

/// "wordnet_mlm": documents = glosses of the supersense train split plus fortunes (5% of the fortunes held
/// out by a hash of their index), packed into model.max_length sequences; test = glosses of the valid split
/// plus the held-out fortunes. "wordnet_lm": the same documents, each ended by [SEP] unless
/// data.separate_documents is false, target = the next token (held-out perplexity over non-overlapping
/// max_length windows). "wordnet_supersense": gloss → lexicographer file, train and test splits. The
/// tokenizer comes from the starting checkpoint's assets when it has one, else it is trained on the training
/// documents.
class TextPipeline : public DataPipeline {
 public:
  TextPipeline(const config::Experiment& experiment, const std::map<std::string, Tensor>& assets);
  BatchStream& train() override { return *train_batches_; }
  BatchStream& test() override { return *test_batches_; }
  int64_t train_size() const override { return train_set_.size(); }
  int64_t test_size() const override { return test_set_.size(); }
  std::map<std::string, Tensor> assets() const override;
  /// "wordnet_lm": "unigram_perplexity", the add-one unigram model of the training targets on the test
  /// split's; nothing for the other datasets.
  std::map<std::string, double> reference_figures() const override { return references_; }
  /// The tokenizer the batches were made with.
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  /// The tokenized test split (limited by data.test_limit).
  const TextDataset& test_set() const { return test_set_; }

 private:
  std::optional<Tokenizer> tokenizer_;
  TextDataset train_set_, test_set_;
  std::unique_ptr<TextLoader> train_loader_, test_loader_;
  std::unique_ptr<TokenBatches> train_batches_, test_batches_;
  std::map<std::string, double> references_;
};

}  // namespace qat
