#include "layers/module.h"

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/random.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/models/resnet.h"
#include "layers/sequential.h"

namespace qat {
namespace {

// Doubles its input: a stand-in for a decorator put in a child's place.
class Doubler : public Module {
 public:
  Variable forward(const Variable& x) override {
    Tensor y = x.data().clone();
    for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] *= 2.0f;
    return Variable(y);
  }
};

TEST(Module, NamesParametersAndBuffersByPath) {
  Sequential net;
  net.add("conv", std::make_shared<Conv2d>(Conv2dOptions{.in = 1, .out = 4, .kernel = 3, .bias = false}));
  net.add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = 4}));
  net.add("fc", std::make_shared<Linear>(LinearOptions{.in = 4, .out = 2}));
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"}));
  const auto state = net.state_dict();
  EXPECT_EQ(state.size(), 7u);
  EXPECT_TRUE(state.count("bn.running_var"));
  EXPECT_EQ(state.at("conv.weight").shape(), (Shape{4, 1, 3, 3}));
}

TEST(Module, StateDictRoundTripAndMismatchErrors) {
  manual_seed(1);
  auto a = resnet20(1, 10);
  manual_seed(2);
  auto b = resnet20(1, 10);
  const auto state = a->state_dict();
  EXPECT_NE(b->state_dict().at("stem.weight").to_vector(), state.at("stem.weight").to_vector());
  b->load_state_dict(state);
  for (auto& [name, tensor] : b->state_dict())
    EXPECT_EQ(tensor.to_vector(), state.at(name).to_vector()) << name;

  auto wrong = state;
  wrong["fc.weight"] = Tensor::zeros({3, 3});
  try {
    b->load_state_dict(wrong);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc.weight"), std::string::npos) << e.what();
  }
  auto extra = state;
  extra["unknown"] = Tensor::zeros({1});
  EXPECT_THROW(b->load_state_dict(extra), Error);
}

TEST(Module, ResNet20HasTheExpectedSize) {
  auto model = resnet20(1, 10);
  int64_t count = 0;
  for (auto& p : model->parameters()) count += p.numel();
  // 16/32/64 widths, 3 blocks per stage, 1x1 projection shortcuts at the two transitions, 10 classes.
  EXPECT_EQ(count, 272186);
}

TEST(Module, TrainEvalReachesDescendants) {
  auto model = resnet20(1, 10);
  model->eval();
  for (auto& [name, child] : model->children()) EXPECT_FALSE(child->is_training()) << name;
  model->train();
  EXPECT_TRUE(model->children().back().second->is_training());
}

TEST(Module, ReplacedChildIsCalled) {
  Sequential net;
  net.add("a", std::make_shared<Doubler>());
  net.replace_child("a", std::make_shared<Doubler>());
  EXPECT_EQ(net.call_child("a", Variable(Tensor::full({1}, 3.0f))).data().item(), 6.0f);
  EXPECT_THROW(net.replace_child("missing", std::make_shared<Doubler>()), Error);
}

}  // namespace
}  // namespace qat
