// A gpt checkpoint from before the pre-LN layers (no model_layout attribute) is refused by every command
// that loads one, naming the file; the same weights with the attribute load.
#include "experiments/model_layout.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "experiments/calibration.h"
#include "experiments/checkpoint_model.h"
#include "experiments/config_loader.h"
#include "experiments/model_factory.h"
#include "tests/test_util.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

const std::string config = std::string(QAT_SOURCE_DIR) + "/experiments/configs/wordnet_gpt_small.pbtxt";

config::Experiment tiny_gpt() {
  return load_experiment(config, {"model.vocab_size=50", "model.layers=1", "model.hidden=16", "model.heads=2",
                                  "model.ffn=32", "model.max_length=8"});
}

// A checkpoint of a freshly built tiny gpt with `meta` besides its config.
std::string write_checkpoint(const std::string& name, std::map<std::string, std::string> meta) {
  const config::Experiment e = tiny_gpt();
  std::string text;
  google::protobuf::TextFormat::PrintToString(e, &text);
  meta.emplace("config", text);
  const fs::path path = fs::temp_directory_path() / ("qat_layout_" + std::to_string(::getpid()) + name);
  save_checkpoint(path.string(), {.model = build_model(e.model())->state_dict(),
                                  .optimizer = {},
                                  .ema = {},
                                  .assets = {},
                                  .meta = meta});
  return path.string();
}

TEST(ModelLayout, PostLnGptCheckpointIsRefusedByName) {
  const std::string old = write_checkpoint("_old.h5", {});
  std::string e = test::error_of([&] { load_checkpoint_model(old, {}); });
  EXPECT_NE(e.find("checkpoint " + old + ": model.arch 'gpt' without a 'model_layout' attribute"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("post-LN"), std::string::npos) << e;
  config::Experiment ptq = tiny_gpt();
  ptq.set_init_checkpoint(old);
  e = test::error_of([&] { float_model(ptq, nullptr); });
  EXPECT_NE(e.find("checkpoint " + old + ": model.arch 'gpt' without"), std::string::npos) << e;

  const std::string other = write_checkpoint("_other.h5", {{kModelLayoutAttribute, "gpt-post-ln"}});
  e = test::error_of([&] { load_checkpoint_model(other, {}); });
  EXPECT_NE(e.find("model_layout 'gpt-post-ln', but this build's model.arch 'gpt' is 'gpt-pre-ln'"),
            std::string::npos)
      << e;
  fs::remove(old);
  fs::remove(other);
}

TEST(ModelLayout, CurrentGptCheckpointLoads) {
  const config::Experiment e = tiny_gpt();
  const std::string path = write_checkpoint("_new.h5", model_layout_meta(e.model()));
  EXPECT_EQ(model_layout_meta(e.model()).at(kModelLayoutAttribute), "gpt-pre-ln");
  EXPECT_NE(load_checkpoint_model(path, {}).model, nullptr);
  config::Experiment ptq = e;
  ptq.set_init_checkpoint(path);
  EXPECT_NE(float_model(ptq, nullptr), nullptr);
  fs::remove(path);
}

TEST(ModelLayout, OtherArchitecturesNeedNoAttribute) {
  config::ModelConfig bert;
  bert.set_arch("bert");
  EXPECT_TRUE(model_layout_meta(bert).empty());
  EXPECT_NO_THROW(check_model_layout({}, bert, "any.h5"));
}

}  // namespace
}  // namespace qat
