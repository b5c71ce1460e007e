// `qat ptq` on transformers end to end, kept small: a tiny gpt and a tiny BERT trained for an epoch on
// WordNet + fortunes subsets, then quantized block by block. RTN W8 keeps the perplexity, OPTQ W3 has a
// lower summed proxy loss than RTN W3, the written checkpoint evaluates to the same perplexity in
// `qat eval`, layers.csv lists the 4 linears of each layer, and bad input names the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/text/fortunes_corpus.h"
#include "datasets/text/wordnet_glosses.h"
#include "experiments/eval_command.h"
#include "experiments/ptq_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string configs = std::string(QAT_SOURCE_DIR) + "/experiments/configs/";
const std::vector<std::string> tiny_run = {
    "model.vocab_size=300", "model.layers=2",      "model.hidden=32",
    "model.heads=2",        "model.ffn=64",        "model.max_length=32",
    "model.dropout=0",      "train.batch_size=16", "train.eval_batch_size=64",
    "data.train_limit=600", "data.test_limit=100", "train.epochs=1",
    "train.lr=3e-3"};

json run(std::string (*command)(const CommandLine&), const std::string& positional,
         const std::vector<std::string>& overrides, const fs::path& out = {}) {
  CommandLine line;
  line.positional = {positional};
  line.overrides = overrides;
  if (!out.empty()) line.options["out"] = out.string();
  return json::parse(command(line));
}

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

class TransformerPtq : public ::testing::Test {
 protected:
  void SetUp() override {
    QAT_REQUIRE_DATASET(fs::exists(kWordNetDir), "wordnet-base");
    QAT_REQUIRE_DATASET(fs::exists(kFortunesDir), "fortunes");
    dir_ = fs::temp_directory_path() / ("qat_tptq_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Trains `train_config` tiny and returns the overrides that point `ptq_config` at it.
  std::vector<std::string> trained(const std::string& train_config, const std::vector<std::string>& extra) {
    run(run_train, configs + train_config, with(tiny_run, extra), dir_ / "float");
    return with(with(tiny_run, extra), {"init_checkpoint=" + (dir_ / "float" / "model.h5").string(),
                                        "ptq.calib_samples=32", "quant.first_last_bits=0"});
  }

  fs::path dir_;
};

TEST_F(TransformerPtq, GptRtnW8KeepsPerplexityOptqBeatsRtnAndEvalAgrees) {
  const std::vector<std::string> base = trained("wordnet_gpt_small.pbtxt", {});
  const std::string config = configs + "wordnet_gpt_small_ptq.pbtxt";
  const json w8 = run(run_ptq, config, with(base, {"ptq.method=rtn", "ptq.weight_bits=8"}), dir_ / "rtn8");
  EXPECT_EQ(w8["layers"], 8);  // 2 layers × (attn.qkv, attn.out, f1, f2)
  const double float_ppl = w8["float_test_perplexity"].get<double>();
  EXPECT_LT(float_ppl, 300.0) << w8.dump();  // trained: below a uniform guess over 300 pieces
  EXPECT_NEAR(w8["test_perplexity"].get<double>(), float_ppl, 0.01 * float_ppl) << w8.dump();
  const json evaluated = run(run_eval, (dir_ / "rtn8" / "model.h5").string(), {});
  EXPECT_NEAR(evaluated["test_perplexity"].get<double>(), w8["test_perplexity"].get<double>(),
              1e-5 * float_ppl);

  const json rtn3 = run(run_ptq, config, with(base, {"ptq.method=rtn", "ptq.weight_bits=3"}), dir_ / "rtn3");
  const json optq3 =
      run(run_ptq, config, with(base, {"ptq.method=optq", "ptq.weight_bits=3"}), dir_ / "optq3");
  EXPECT_LT(optq3["total_loss"].get<double>(), rtn3["total_loss"].get<double>());
  EXPECT_GT(rtn3["test_perplexity"].get<double>(), float_ppl);  // 3 bits cost something
}

TEST_F(TransformerPtq, BertMlmPerplexityAndBadInput) {
  const std::vector<std::string> base = trained("wordnet_bert_mlm.pbtxt", {});
  const std::string config = configs + "wordnet_bert_mlm_ptq.pbtxt";
  const std::vector<std::string> bert = with(base, {"ptq.method=rtn", "ptq.weight_bits=8"});
  const json w8 = run(run_ptq, config, bert, dir_ / "bert8");
  EXPECT_EQ(w8["layers"], 8);  // the MLM head stays float
  const double float_ppl = w8["float_test_perplexity"].get<double>();
  EXPECT_NEAR(w8["test_perplexity"].get<double>(), float_ppl, 0.01 * float_ppl) << w8.dump();

  const std::string skip_all = (dir_ / "skip_all.pbtxt").string();
  std::ofstream(skip_all) << R"(data { dataset: "wordnet_mlm" } model { arch: "bert" })"
                          << R"( quant { rules { skip: true } } ptq { method: "rtn" })";
  CommandLine line;
  line.positional = {skip_all};
  line.overrides = bert;
  std::string e = test::error_of([&] { run_ptq(line); });
  EXPECT_NE(e.find("quant.rules: model 'bert' has no conv/linear layer left"), std::string::npos) << e;
  line.positional = {config};
  line.overrides = with(base, {"model.arch=bow", "model.num_classes=45"});
  e = test::error_of([&] { run_ptq(line); });
  EXPECT_NE(e.find("model.arch:"), std::string::npos) << e;
}

}  // namespace
}  // namespace qat
