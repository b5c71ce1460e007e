// The one walker and the one fold plan: pre-order paths and skipping, and what folds into which layer
// (batch norm, ReLU/ReLU6, the consumer whose input grid an output lands on) in the three block shapes
// the exporters and the integer compiler read, plain and quantized.
#include "quant/fold_plan.h"

#include <gtest/gtest.h>

#include "layers/models/basic_block.h"
#include "layers/models/inverted_residual.h"
#include "layers/models/resnet.h"
#include "layers/module_walker.h"
#include "quant/quant_policy.h"

namespace qat {
namespace {

std::vector<std::string> paths(const std::vector<FoldStep>& plan) {
  std::vector<std::string> out;
  out.reserve(plan.size());
  for (const FoldStep& s : plan) out.push_back(s.path);
  return out;
}

TEST(ModuleWalker, VisitsPreOrderAndSkips) {
  BasicBlock block(4, 8, 2);
  std::vector<std::string> all, skipped;
  walk_modules(
      block,
      [&](const ModuleSlot& slot) {
        all.push_back(slot.path);
        return Walk::descend;
      },
      "b");
  EXPECT_EQ(all, (std::vector<std::string>{"b.conv1", "b.bn1", "b.conv2", "b.bn2", "b.shortcut",
                                           "b.shortcut.conv", "b.shortcut.bn"}));
  walk_modules(
      block,
      [&](const ModuleSlot& slot) {
        skipped.push_back(slot.path);
        return slot.name == "shortcut" ? Walk::skip : Walk::descend;
      },
      "b");
  EXPECT_EQ(skipped, (std::vector<std::string>{"b.conv1", "b.bn1", "b.conv2", "b.bn2", "b.shortcut"}));
}

TEST(FoldPlan, InvertedResidualFoldsBatchNormAndRelu6AndChainsConsumers) {
  InvertedResidual block(8, 8, 1, 4);
  const std::vector<FoldStep> plan = fold_plan(block, "ir", true);
  ASSERT_EQ(paths(plan), (std::vector<std::string>{"ir.expand.conv", "ir.dw.conv", "ir.project"}));
  EXPECT_EQ(plan[0].batch_norm_path, "ir.expand.bn");
  EXPECT_EQ(plan[0].activation_path, "ir.expand.act");
  EXPECT_EQ(plan[0].activation->kind(), ActivationKind::relu6);
  EXPECT_EQ(plan[1].batch_norm_path, "ir.dw.bn");
  EXPECT_EQ(plan[2].batch_norm_path, "ir.project_bn");
  EXPECT_EQ(plan[2].activation, nullptr);
  EXPECT_EQ(plan[0].consumer, 1u);
  EXPECT_EQ(plan[1].consumer, 2u);
  EXPECT_FALSE(plan[2].consumer.has_value());
  // Without flattening the Sequential units stay whole: nothing is weighted at this level but project.
  const std::vector<FoldStep> whole = fold_plan(block, "ir", false);
  ASSERT_EQ(paths(whole), (std::vector<std::string>{"ir.expand", "ir.dw", "ir.project"}));
  EXPECT_FALSE(whole[0].weighted());
  EXPECT_TRUE(whole[2].weighted());
}

TEST(FoldPlan, ResidualBlockKeepsItsShortcutApartAndQuantizedLayersFoldAlike) {
  auto model = resnet20(1, 10);
  auto* block = dynamic_cast<BasicBlock*>(&child_of(*model, "layer2_0", "", "test"));  // with a projection
  ASSERT_NE(block, nullptr);
  auto check = [&](const char* what) {
    const std::vector<FoldStep> plan = fold_plan(*block, "layer2_0", false);
    ASSERT_EQ(paths(plan),
              (std::vector<std::string>{"layer2_0.conv1", "layer2_0.conv2", "layer2_0.shortcut"}))
        << what;
    EXPECT_EQ(plan[0].batch_norm_path, "layer2_0.bn1") << what;
    EXPECT_EQ(plan[1].batch_norm_path, "layer2_0.bn2") << what;
    EXPECT_EQ(plan[0].consumer, 1u) << what;
    EXPECT_FALSE(plan[1].consumer.has_value()) << what;  // conv2 lands on the residual sum, not a grid
    EXPECT_FALSE(plan[2].weighted()) << what;
    const std::vector<FoldStep> shortcut = fold_plan(*plan[2].module, plan[2].path, true);
    ASSERT_EQ(paths(shortcut), std::vector<std::string>{"layer2_0.shortcut.conv"}) << what;
    EXPECT_EQ(shortcut[0].batch_norm_path, "layer2_0.shortcut.bn") << what;
  };
  check("float");
  QuantPolicy lsq;
  lsq.method = "lsq";
  quant::apply(*model, lsq);
  check("quantized");
}

TEST(FoldPlan, ABatchNormWithoutALayerBeforeItIsItsOwnStep) {
  Sequential chain;
  chain.add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = 2}));
  chain.add("relu", std::make_shared<Activation>(ActivationKind::relu));
  const std::vector<FoldStep> plan = fold_plan(chain, "", true);
  ASSERT_EQ(paths(plan), (std::vector<std::string>{"bn", "relu"}));
  EXPECT_EQ(plan[0].batch_norm, nullptr);
  EXPECT_EQ(plan[1].activation, nullptr);
}

}  // namespace
}  // namespace qat
