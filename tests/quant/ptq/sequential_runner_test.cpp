#include "quant/ptq/sequential_runner.h"

#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

std::shared_ptr<QuantizedLayer> wrap(std::shared_ptr<WeightedLayer> layer) {
  return std::make_shared<QuantizedLayer>(std::move(layer), nullptr, nullptr);
}

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  const Eigen::MatrixXd g = test::gaussian(numel(shape), 1, seed);
  return Tensor::from_vector(shape, std::vector<float>(g.data(), g.data() + g.size()));
}

// Rows of a [N, d] tensor as a double matrix.
Eigen::MatrixXd rows_of(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  Eigen::MatrixXd m(t.dim(0), t.dim(1));
  for (int64_t i = 0; i < m.size(); ++i) m(i / m.cols(), i % m.cols()) = v[i];
  return m;
}

struct Model {
  std::vector<std::shared_ptr<Sequential>> blocks;
  std::vector<RunnerBlock> runner_blocks() const {
    std::vector<RunnerBlock> out;
    for (size_t i = 0; i < blocks.size(); ++i) {
      Sequential* b = blocks[i].get();
      out.push_back({"block" + std::to_string(i), b,
                     [b](int64_t, const Tensor& x) { return b->forward(Variable(x)).data(); }});
    }
    return out;
  }
  Tensor forward(const Tensor& x) const {
    NoGrad no_grad;
    Tensor y = x;
    for (const auto& b : blocks) y = b->forward(Variable(y)).data();
    return y;
  }
};

// conv (2 groups) → ReLU → flatten | linear → ReLU → linear | linear.
Model small_model() {
  Model m;
  auto b0 = std::make_shared<Sequential>();
  b0->add("conv", wrap(std::make_shared<Conv2d>(
                      Conv2dOptions{.in = 2, .out = 4, .kernel = 3, .padding = 1, .groups = 2})))
      .add(std::make_shared<Activation>(ActivationKind::relu))
      .add(std::make_shared<Flatten>());
  auto b1 = std::make_shared<Sequential>();
  b1->add("f1", wrap(std::make_shared<Linear>(LinearOptions{.in = 64, .out = 12})))
      .add(std::make_shared<Activation>(ActivationKind::relu))
      .add("f2", wrap(std::make_shared<Linear>(LinearOptions{.in = 12, .out = 6})));
  auto b2 = std::make_shared<Sequential>();
  b2->add("head", wrap(std::make_shared<Linear>(LinearOptions{.in = 6, .out = 3})));
  m.blocks = {b0, b1, b2};
  for (auto& b : m.blocks) b->eval();
  return m;
}

std::vector<Tensor> batches() { return {random_tensor({5, 2, 4, 4}, 1), random_tensor({3, 2, 4, 4}, 2)}; }

TEST(PtqSequentialRunner, IdentityQuantizationReproducesFloatActivations) {
  const Model m = small_model();
  std::vector<std::string> seen;
  const LayerQuantizer record = [&](const std::string& path, QuantizedLayer&,
                                    const std::vector<Eigen::MatrixXd>& h) {
    seen.push_back(path + ":" + std::to_string(h.size()) + "x" + std::to_string(h[0].rows()));
  };
  const std::vector<Tensor> out = SequentialRunner(m.runner_blocks(), {}).run(batches(), record);
  EXPECT_EQ(seen, (std::vector<std::string>{"block0.conv:2x9", "block1.f1:1x64", "block1.f2:1x12",
                                            "block2.head:1x6"}));
  for (size_t b = 0; b < out.size(); ++b) EXPECT_EQ(out[b].to_vector(), m.forward(batches()[b]).to_vector());
}

// Halves a weight in place: a stand-in quantizer whose effect on later inputs is easy to see.
void halve(QuantizedLayer& layer) {
  const Tensor& w = layer.layer().weight().data();
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= 0.5f;
}

// E[x xᵀ] of `layer`'s input when the whole model runs on the batches.
Eigen::MatrixXd input_hessian(const Model& m, Module& block, const std::string& child, size_t upto_block) {
  NoGrad no_grad;
  Eigen::MatrixXd sum;
  int64_t rows = 0;
  for (const Tensor& x : batches()) {
    Tensor y = x;
    for (size_t i = 0; i < upto_block; ++i) y = m.blocks[i]->forward(Variable(y)).data();
    Variable v(y);
    for (const auto& [name, c] : block.children()) {
      if (name == child) break;
      v = c->forward(v);
    }
    const Eigen::MatrixXd r = rows_of(v.data());
    sum = rows == 0 ? Eigen::MatrixXd(r.transpose() * r) : Eigen::MatrixXd(sum + r.transpose() * r);
    rows += r.rows();
  }
  return sum / static_cast<double>(rows);
}

TEST(PtqSequentialRunner, LaterBlocksSeeQuantizedOutputsOnlyWhenSequential) {
  for (const bool sequential : {true, false})
    for (const bool true_sequential : {false, true}) {
      const Model m = small_model();
      const auto copy = [&m]() {  // the float model as it was before the run
        Model c = small_model();
        for (size_t i = 0; i < c.blocks.size(); ++i) c.blocks[i]->load_state_dict(m.blocks[i]->state_dict());
        return c;
      };
      const Model reference = copy();
      Model f1_source = copy();
      std::map<std::string, Eigen::MatrixXd> hs;
      const LayerQuantizer q = [&](const std::string& path, QuantizedLayer& layer,
                                   const std::vector<Eigen::MatrixXd>& h) {
        hs[path] = h[0];
        halve(layer);
      };
      SequentialRunner(m.runner_blocks(), {.sequential = sequential, .true_sequential = true_sequential})
          .run(batches(), q);
      // f1 reads block 0's output: from the halved conv when sequential, the float conv otherwise.
      const Model& source = sequential ? m : reference;
      EXPECT_LT((hs["block1.f1"] - input_hessian(source, *m.blocks[1], "f1", 1)).cwiseAbs().maxCoeff(), 1e-5);
      // f2 reads f1 in the same block: halved only with true_sequential.
      if (sequential) halve(dynamic_cast<QuantizedLayer&>(*f1_source.blocks[0]->children()[0].second));
      if (true_sequential) halve(dynamic_cast<QuantizedLayer&>(*f1_source.blocks[1]->children()[0].second));
      EXPECT_LT(
          (hs["block1.f2"] - input_hessian(f1_source, *f1_source.blocks[1], "f2", 1)).cwiseAbs().maxCoeff(),
          1e-5)
          << "sequential " << sequential << ", true_sequential " << true_sequential;
    }
}

// A ResNet-like Sequential: its blocks are the children holding quantized layers, with the others
// (batch norm, activation, pooling) run inside the block before them; running them reproduces the model.
TEST(PtqSequentialRunner, BlocksOfASequentialModel) {
  Sequential model;
  model.add("pre", std::make_shared<Activation>(ActivationKind::relu))
      .add("stem",
           wrap(std::make_shared<Conv2d>(Conv2dOptions{.in = 2, .out = 4, .kernel = 3, .padding = 1})))
      .add("act", std::make_shared<Activation>(ActivationKind::relu))
      .add("flatten", std::make_shared<Flatten>())
      .add("fc", wrap(std::make_shared<Linear>(LinearOptions{.in = 64, .out = 5})));
  model.eval();
  const std::vector<RunnerBlock> blocks = sequential_blocks(model);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].path, "stem");
  EXPECT_EQ(blocks[1].path, "fc");
  std::vector<std::string> seen;
  const LayerQuantizer record = [&](const std::string& path, QuantizedLayer&,
                                    const std::vector<Eigen::MatrixXd>&) { seen.push_back(path); };
  const std::vector<Tensor> out = SequentialRunner(blocks, {}).run(batches(), record);
  EXPECT_EQ(seen, (std::vector<std::string>{"stem", "fc"}));
  NoGrad no_grad;
  for (size_t b = 0; b < out.size(); ++b)
    EXPECT_EQ(out[b].to_vector(), model.forward(Variable(batches()[b])).data().to_vector());
}

}  // namespace
}  // namespace qat::ptq
