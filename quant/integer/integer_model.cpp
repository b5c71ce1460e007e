#include "quant/integer/integer_model.h"

#include <memory>

#include "engine/error.h"
#include "engine/kernels/eltwise.h"
#include "engine/kernels/pool.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/identity.h"
#include "layers/linear.h"
#include "layers/models/basic_block.h"
#include "layers/models/inverted_residual.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/integer/layer_runner.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

bool is_weighted(const Module& m) { return weighted_layer_of(m) != nullptr; }

using Step = std::function<Tensor(Tensor)>;

// A module of a flattened Sequential: a weighted layer with the batch norm and activation after it, or
// any other module.
struct Item {
  Module* module = nullptr;
  std::string path;
  std::string bn_path;  // the folded batch norm ("" when none)
  Act act = Act::none;  // the activation right after it
};

Act activation_kind(const Module* m) {
  const auto* a = dynamic_cast<const Activation*>(m);
  if (!a) return Act::none;
  if (a->kind() == ActivationKind::relu) return Act::relu;
  return a->kind() == ActivationKind::relu6 ? Act::relu6 : Act::none;
}

// Builds the steps of a module tree.
class Compiler {
 public:
  explicit Compiler(const PackedModel& packed) : packed_(packed) {}
  void module(Module& m, const std::string& path, std::vector<Step>& steps);

 private:
  void flatten(Module& m, const std::string& path, std::vector<Item>& items);
  std::shared_ptr<LayerRunner> runner(const std::vector<Item>& items, size_t i, bool accumulate);
  std::vector<std::shared_ptr<LayerRunner>> layer_chain(const std::vector<Item>& items, bool accumulate_last);
  void chain(const std::vector<Item>& items, std::vector<Step>& steps);
  Step basic_block(Module& b, const std::string& path);
  Step inverted_residual(InvertedResidual& b, const std::string& path);
  const PackedLayer& layer(const Module& m, const std::string& path, const std::string& bn_path);

  const PackedModel& packed_;
};

Module& child(const Module& m, const std::string& name, const std::string& path) {
  return child_of(m, name, path, "integer inference");
}

// The packed record of a weighted module, checked against the module (kind, geometry, folded batch norm).
const PackedLayer& Compiler::layer(const Module& m, const std::string& path, const std::string& bn_path) {
  const PackedLayer& l = packed_.layer(path);
  const WeightedLayer& w = *weighted_layer_of(m);
  QAT_CHECK(l.weight.shape == w.weight().shape(), "integer inference: layer '", path, "' has weight ",
            to_string(l.weight.shape), " in the packed model but ", to_string(w.weight().shape()),
            " in the architecture");
  if (const auto* conv = dynamic_cast<const Conv2d*>(&w)) {
    const Conv2dOptions& o = conv->options();
    QAT_CHECK(l.kind == PackedKind::conv2d && l.stride == o.stride && l.padding == o.padding &&
                  l.dilation == o.dilation && l.groups == o.groups,
              "integer inference: layer '", path, "': geometry differs from the architecture's Conv2d");
  } else {
    QAT_CHECK(l.kind == PackedKind::linear, "integer inference: layer '", path, "' is not a linear layer");
  }
  QAT_CHECK(l.batch_norm == bn_path, "integer inference: layer '", path, "' folds batch norm '", l.batch_norm,
            "' but the architecture has '", bn_path, "' after it");
  return l;
}

// The children of nested Sequentials in order, each weighted layer with the batch norm and the ReLU/ReLU6
// that follow it among its siblings.
void Compiler::flatten(Module& m, const std::string& path, std::vector<Item>& items) {
  const auto& children = m.children();
  for (size_t i = 0; i < children.size(); ++i) {
    Module& c = *children[i].second;
    const std::string at = child_path(path, children[i].first);
    if (dynamic_cast<Sequential*>(&c)) {
      flatten(c, at, items);
      continue;
    }
    Item item{.module = &c, .path = at, .bn_path = "", .act = Act::none};
    if (is_weighted(c)) {
      auto next = [&](size_t k) { return i + k < children.size() ? children[i + k].second.get() : nullptr; };
      if (dynamic_cast<BatchNorm2d*>(next(1))) item.bn_path = child_path(path, children[++i].first);
      if ((item.act = activation_kind(next(1))) != Act::none) ++i;
    }
    items.push_back(item);
  }
}

// The runner of weighted item i: an int8 layer (one whose input is quantized) followed by another weighted
// layer writes the codes of that layer's input; `accumulate` adds its result onto the destination.
std::shared_ptr<LayerRunner> Compiler::runner(const std::vector<Item>& items, size_t i, bool accumulate) {
  const PackedLayer& current = layer(*items[i].module, items[i].path, items[i].bn_path);
  LayerOutput output{.requantize = std::nullopt, .accumulate = accumulate, .act = items[i].act};
  if (current.input && i + 1 < items.size() && is_weighted(*items[i + 1].module))
    output.requantize = layer(*items[i + 1].module, items[i + 1].path, items[i + 1].bn_path).input;
  return std::make_shared<LayerRunner>(current, output);
}

// Runners of consecutive weighted items (a residual block's body); the last one adds onto its destination
// when `accumulate_last`.
std::vector<std::shared_ptr<LayerRunner>> Compiler::layer_chain(const std::vector<Item>& items,
                                                                bool accumulate_last) {
  std::vector<std::shared_ptr<LayerRunner>> runners;
  for (size_t i = 0; i < items.size(); ++i) {
    QAT_CHECK(is_weighted(*items[i].module), "integer inference: '", items[i].path,
              "' inside a residual block is not a conv/linear layer");
    runners.push_back(runner(items, i, accumulate_last && i + 1 == items.size()));
  }
  return runners;
}

// Steps of a flattened Sequential: weighted items through their runners, the others as modules.
void Compiler::chain(const std::vector<Item>& items, std::vector<Step>& steps) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (!is_weighted(*items[i].module)) {
      module(*items[i].module, items[i].path, steps);
      continue;
    }
    std::shared_ptr<LayerRunner> r = runner(items, i, false);
    steps.push_back([r](Tensor x) { return r->run(x); });
  }
}

void Compiler::module(Module& m, const std::string& path, std::vector<Step>& steps) {
  if (dynamic_cast<Sequential*>(&m) || is_weighted(m)) {
    std::vector<Item> items;
    if (is_weighted(m))
      items.push_back({.module = &m, .path = path, .bn_path = "", .act = Act::none});
    else
      flatten(m, path, items);
    return chain(items, steps);
  }
  if (dynamic_cast<BasicBlock*>(&m)) return steps.push_back(basic_block(m, path));
  if (auto* b = dynamic_cast<InvertedResidual*>(&m)) return steps.push_back(inverted_residual(*b, path));
  if (const auto* a = dynamic_cast<const Activation*>(&m)) {
    QAT_CHECK(a->kind() == ActivationKind::relu || a->kind() == ActivationKind::relu6,
              "integer inference: activation '", path, "' is not ReLU or ReLU6");
    const bool six = a->kind() == ActivationKind::relu6;
    return steps.push_back([six](Tensor x) {
      return six ? kernels::eltwise_forward(dnnl::algorithm::eltwise_clip, x, 0.0f, 6.0f)
                 : kernels::eltwise_forward(dnnl::algorithm::eltwise_relu, x);
    });
  }
  if (auto* p = dynamic_cast<Pool2d*>(&m)) {
    QAT_CHECK(p->options().kind == PoolKind::global_average, "integer inference: pooling '", path,
              "' is not a global average pool");
    // The kernel and arithmetic of global_avg_pool2d, so the float values match the fake-quantized model.
    return steps.push_back([](Tensor x) {
      const int64_t h = x.dim(2), w = x.dim(3);
      return kernels::pool2d_forward(
                 x, {dnnl::algorithm::pooling_avg_include_padding, {h, w}, {h, w}, {0, 0}}, false)
          .dst;
    });
  }
  if (dynamic_cast<const Flatten*>(&m))
    return steps.push_back([](Tensor x) { return x.reshape({x.dim(0), x.numel() / x.dim(0)}); });
  if (dynamic_cast<const Identity*>(&m) || dynamic_cast<const Dropout*>(&m))
    return;  // identities in evaluation
  QAT_CHECK(!dynamic_cast<const BatchNorm2d*>(&m), "integer inference: batch norm '", path,
            "' does not follow a convolution, so it is not folded");
  detail::fail("integer inference: unsupported module '", path, "' (", module_type_name(m), ")");
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): conv1 writes the codes of conv2's input directly;
// conv2 adds its result onto the shortcut's (x itself, updated in place, or the projection's output).
Step Compiler::basic_block(Module& b, const std::string& path) {
  const PackedLayer& conv1 =
      layer(child(b, "conv1", path), child_path(path, "conv1"), child_path(path, "bn1"));
  const PackedLayer& conv2 =
      layer(child(b, "conv2", path), child_path(path, "conv2"), child_path(path, "bn2"));
  QAT_CHECK(conv1.input && conv2.input, "integer inference: block '", path,
            "' has a convolution with a float input");
  auto first = std::make_shared<LayerRunner>(conv1, LayerOutput{.requantize = conv2.input});
  auto second = std::make_shared<LayerRunner>(
      conv2, LayerOutput{.requantize = std::nullopt, .accumulate = true, .relu_after_sum = true});
  Module& shortcut = child(b, "shortcut", path);
  std::shared_ptr<LayerRunner> projection;
  if (!shortcut.children().empty()) {
    const std::string at = child_path(path, "shortcut");
    const PackedLayer& l = layer(child(shortcut, "conv", at), child_path(at, "conv"), child_path(at, "bn"));
    QAT_CHECK(l.input, "integer inference: shortcut '", at, "' has a float input");
    projection = std::make_shared<LayerRunner>(l, LayerOutput{});
  }
  return [first, second, projection](Tensor x) {
    const Tensor codes = first->run(x);
    Tensor sum = projection ? projection->run(x) : x;
    second->run_into(codes, sum);
    return sum;
  };
}

// [expand →] depthwise → project (+ x): each layer writes the codes of the next one's input; with the
// residual, the projection adds its result onto x in place.
Step Compiler::inverted_residual(InvertedResidual& b, const std::string& path) {
  std::vector<Item> items;
  flatten(b, path, items);
  const auto runners = layer_chain(items, b.residual());
  const bool residual = b.residual();
  return [runners, residual](Tensor x) {
    Tensor y = x;
    for (size_t i = 0; i + 1 < runners.size(); ++i) y = runners[i]->run(y);
    if (!residual) return runners.back()->run(y);
    runners.back()->run_into(y, x);
    return x;
  };
}

}  // namespace

IntegerModel::IntegerModel(Module& architecture, const PackedModel& packed) {
  Compiler(packed).module(architecture, "", steps_);
  QAT_CHECK(!steps_.empty(), "integer inference: the architecture has no layers");
}

Tensor IntegerModel::forward(const Tensor& input) const {
  // A residual block updates its input in place: never the caller's tensor.
  Tensor x = input.clone();
  for (const Step& step : steps_) x = step(std::move(x));
  return x.contiguous();
}

}  // namespace qat
