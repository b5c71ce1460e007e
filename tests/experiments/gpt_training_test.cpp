// The causal LM end to end on real WordNet glosses and fortunes, kept small: a tiny gpt trained for a few
// epochs beats the unigram model of the training text by a margin, qat eval of its checkpoint gives
// the same perplexity, its checkpoints record the pre-LN layout, and bad gpt configs name the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "datasets/text/fortunes_corpus.h"
#include "datasets/text/wordnet_glosses.h"
#include "experiments/config_loader.h"
#include "experiments/data_pipeline.h"
#include "experiments/eval_command.h"
#include "experiments/model_factory.h"
#include "experiments/model_layout.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

const std::string config = std::string(QAT_SOURCE_DIR) + "/experiments/configs/wordnet_gpt_small.pbtxt";

std::vector<std::string> tiny() {
  return {"model.vocab_size=300", "model.layers=1",        "model.hidden=64",
          "model.heads=2",        "model.ffn=128",         "model.max_length=64",
          "model.dropout=0",      "train.batch_size=16",   "train.eval_batch_size=64",
          "train.lr=3e-3",        "data.train_limit=1500", "data.test_limit=200",
          "train.epochs=3"};
}

TEST(GptTraining, BeatsTheUnigramReferenceAndEvalAgrees) {
  QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
  QAT_REQUIRE_DATASET(fs::exists(kFortunesDir), "fortunes");
  const fs::path dir = fs::temp_directory_path() / ("qat_gpt_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  CommandLine line;
  line.positional = {config};
  line.overrides = tiny();
  line.options["out"] = dir.string();
  const std::string trained = run_train(line);
  const double perplexity = test::json_field(trained, "test_perplexity");
  const double unigram = test::json_field(trained, "unigram_perplexity");
  EXPECT_LT(perplexity, 0.75 * unigram) << trained;
  EXPECT_GT(unigram, 20.0);  // the held-out text is not degenerate
  for (const char* file : {"model.h5", "last.h5"})
    EXPECT_EQ(load_checkpoint((dir / file).string()).meta.at(kModelLayoutAttribute), "gpt-pre-ln") << file;

  CommandLine eval;
  eval.positional = {(dir / "model.h5").string()};
  EXPECT_NEAR(test::json_field(run_eval(eval), "test_perplexity"), perplexity, 1e-6 * perplexity);
  fs::remove_all(dir);
}

TEST(GptTraining, BadConfigsNameTheField) {
  const std::string missing_corpus = "data.dir=/nonexistent/wordnet";
  CommandLine line;
  line.positional = {config};
  line.overrides = tiny();
  line.overrides.push_back(missing_corpus);
  std::string e = test::error_of([&] { run_train(line); });
  EXPECT_NE(e.find("data.dir: /nonexistent/wordnet"), std::string::npos) << e;
  e = test::error_of([] { build_model(load_experiment(config, {"model.arch=gpt2"}).model()); });
  EXPECT_NE(e.find("model.arch: unknown architecture 'gpt2'"), std::string::npos) << e;
  EXPECT_NE(e.find("gpt,"), std::string::npos) << e;
  e = test::error_of([] { make_pipeline(load_experiment(config, {"data.dataset=wordnet_llm"})); });
  EXPECT_NE(e.find("data.dataset: unknown dataset 'wordnet_llm'"), std::string::npos) << e;
}

}  // namespace
}  // namespace qat
