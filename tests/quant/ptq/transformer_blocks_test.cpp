// The block cut of Bert and Gpt: with identity quantization the sequential runner reproduces the float
// model's outputs (each batch under its own padding and causal mask), calibrates every linear of every
// layer in execution order with H of the right width, and a later layer's H is taken on the outputs of
// the already quantized layers before it.
#include "quant/ptq/transformer_blocks.h"

#include <gtest/gtest.h>

#include <map>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "layers/linear.h"
#include "layers/models/bert.h"
#include "layers/models/gpt.h"

namespace qat::ptq {
namespace {

constexpr int64_t kVocab = 24, kHidden = 16, kLayers = 2;

// Wraps every Linear of the tree in a QuantizedLayer without quantizers (what qat ptq's policy does).
void wrap_linears(Module& m) {
  for (const auto& [name, child] : m.children()) {
    if (auto linear = std::dynamic_pointer_cast<Linear>(child)) {
      m.replace_child(name, std::make_shared<QuantizedLayer>(linear, nullptr, nullptr));
      continue;
    }
    wrap_linears(*child);
  }
}

TransformerModelOptions stack() {
  return {.vocab = kVocab,
          .hidden = kHidden,
          .layers = kLayers,
          .heads = 2,
          .ffn = 32,
          .max_len = 16,
          .pad_id = 0};
}

// Two batches of different shapes; the second ends some sequences in [PAD] (id 0).
std::vector<Tensor> batches() {
  std::vector<Tensor> out;
  Generator gen(5);
  for (const auto& [b, t] : std::vector<std::pair<int64_t, int64_t>>{{3, 8}, {2, 12}}) {
    Tensor ids = Tensor::empty({b, t}, DType::s32);
    for (int64_t i = 0; i < b * t; ++i)
      ids.data<int32_t>()[i] = static_cast<int32_t>(1 + gen.below(kVocab - 1));
    out.push_back(ids);
  }
  for (int64_t p = 9; p < 12; ++p) out[1].data<int32_t>()[12 + p] = 0;
  return out;
}

std::vector<std::string> layer_paths(const std::string& head) {
  std::vector<std::string> paths;
  for (int64_t i = 0; i < kLayers; ++i)
    for (const char* l : {"attn.qkv", "attn.out", "f1", "f2"})
      paths.push_back("layers." + std::to_string(i) + "." + l);
  if (!head.empty()) paths.push_back(head);
  return paths;
}

void expect_reproduces(TransformerModel& model, const std::vector<std::string>& expected_paths) {
  manual_seed(1);
  wrap_linears(model);
  model.eval();
  const std::vector<RunnerBlock> blocks = transformer_blocks(model, batches());
  ASSERT_EQ(blocks.size(), static_cast<size_t>(kLayers + 2));
  EXPECT_EQ(blocks[1].path, "layers.0");
  std::vector<std::string> seen;
  std::map<std::string, int64_t> width;
  const LayerQuantizer identity = [&](const std::string& path, QuantizedLayer&,
                                      const std::vector<Eigen::MatrixXd>& h) {
    seen.push_back(path);
    width[path] = h.at(0).rows();
  };
  const std::vector<Tensor> out = SequentialRunner(blocks, {}).run(batches(), identity);
  EXPECT_EQ(seen, expected_paths);
  EXPECT_EQ(width["layers.0.attn.qkv"], kHidden);
  EXPECT_EQ(width["layers.1.f2"], 32);
  NoGrad no_grad;
  ASSERT_EQ(out.size(), 2u);
  for (size_t b = 0; b < out.size(); ++b)
    EXPECT_EQ(out[b].to_vector(), model.forward(Variable(batches()[b])).data().to_vector()) << "batch " << b;
}

TEST(PtqTransformerBlocks, IdentityQuantizationReproducesATinyGpt) {
  Gpt gpt(stack());
  expect_reproduces(gpt, layer_paths(""));  // the tied head has no linear
}

TEST(PtqTransformerBlocks, IdentityQuantizationReproducesATinyBert) {
  Bert bert({.stack = stack()});
  expect_reproduces(bert, layer_paths("mlm_head"));
}

TEST(PtqTransformerBlocks, ClassifierHeadIsItsOwnBlock) {
  Bert bert({.stack = stack(), .num_classes = 5, .head = BertHead::classify});
  wrap_linears(bert);
  bert.eval();
  const std::vector<RunnerBlock> blocks = transformer_blocks(bert, batches());
  EXPECT_EQ(blocks.back().path, "cls_head");
  NoGrad no_grad;
  Tensor x = batches()[1];
  for (const RunnerBlock& block : blocks) x = block.forward(1, x);
  EXPECT_EQ(x.to_vector(), bert.forward(Variable(batches()[1])).data().to_vector());
}

// Halving every weight as it is "quantized": layer 1's qkv must see layer 0's halved output (through layer
// 1's pre-LN norm n1).
TEST(PtqTransformerBlocks, LaterLayersSeeQuantizedOutputs) {
  manual_seed(2);
  Gpt gpt(stack());
  wrap_linears(gpt);
  gpt.eval();
  std::map<std::string, Eigen::MatrixXd> hs;
  const LayerQuantizer halve = [&](const std::string& path, QuantizedLayer& layer,
                                   const std::vector<Eigen::MatrixXd>& h) {
    hs[path] = h.at(0);
    const Tensor& w = layer.layer().weight().data();
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= 0.5f;
  };
  SequentialRunner(transformer_blocks(gpt, batches()), {}).run(batches(), halve);
  // After the run every weight is halved: layer 1's qkv input as the quantized model computes it.
  NoGrad no_grad;
  Module& layer1 = child_of(child_of(gpt, "layers", "layers", "test"), "1", "layers.1", "test");
  Module& n1 = child_of(layer1, "n1", "layers.1.n1", "test");
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(kHidden, kHidden);
  int64_t rows = 0;
  for (const Tensor& ids : batches()) {
    const Tensor x = n1.forward(gpt.run_layer(0, gpt.embed(ids), gpt.attention_mask(ids))).data();
    const std::vector<float> v = x.to_vector();
    for (int64_t r = 0; r < x.numel() / kHidden; ++r, ++rows) {
      const Eigen::Map<const Eigen::VectorXf> row(v.data() + r * kHidden, kHidden);
      h += row.cast<double>() * row.cast<double>().transpose();
    }
  }
  EXPECT_LT((hs.at("layers.1.attn.qkv") - h / static_cast<double>(rows)).cwiseAbs().maxCoeff(), 1e-5);
}

}  // namespace
}  // namespace qat::ptq
