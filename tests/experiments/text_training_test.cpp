// The text path end to end on real WordNet glosses, kept small: masked-LM pretraining of a tiny BERT, then
// supersense fine-tuning from it (weights and tokenizer reused), the bag-of-words baseline on the same
// tokenizer, and qat eval of the classifier.
#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/text/wordnet_glosses.h"
#include "experiments/eval_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::string train(const std::string& config, const std::vector<std::string>& overrides, const fs::path& out) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/" + config};
  line.overrides = {
      "model.vocab_size=300", "model.layers=1",      "model.hidden=32",     "model.heads=2",
      "model.ffn=64",         "model.max_length=32", "train.batch_size=32", "train.eval_batch_size=64"};
  line.overrides.insert(line.overrides.end(), overrides.begin(), overrides.end());
  line.options["out"] = out.string();
  return run_train(line);
}

TEST(TextTraining, PretrainFineTuneBaselineAndEval) {
  QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
  const fs::path dir = fs::temp_directory_path() / ("qat_text_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string mlm =
      train("wordnet_bert_mlm.pbtxt",
            {"data.train_limit=800", "data.test_limit=200", "train.epochs=2", "train.lr=3e-3"}, dir / "mlm");
  EXPECT_LT(test::json_field(mlm, "test_perplexity"), 300.0);  // a uniform guess over 300 pieces scores 300
  const std::string pretrained = (dir / "mlm" / "model.h5").string();
  const std::string tuned = train("wordnet_bert_supersense.pbtxt",
                                  {"init_checkpoint=" + pretrained, "data.train_limit=800",
                                   "data.test_limit=200", "train.epochs=2", "train.lr=1e-3"},
                                  dir / "tuned");
  EXPECT_GT(test::json_field(tuned, "test_accuracy"), 1.0 / 45);
  const std::string bow = train(
      "wordnet_bow_supersense.pbtxt",
      {"data.tokenizer_from=" + pretrained, "data.train_limit=800", "data.test_limit=200", "train.epochs=3"},
      dir / "bow");
  EXPECT_GT(test::json_field(bow, "test_accuracy"), 1.0 / 45);

  CommandLine eval;
  eval.positional = {(dir / "tuned" / "model.h5").string()};
  EXPECT_EQ(test::json_field(run_eval(eval), "test_accuracy"), test::json_field(tuned, "test_accuracy"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
