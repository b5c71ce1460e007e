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
#include "quant/fold_plan.h"
#include "quant/integer/layer_runner.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

using Step = std::function<Tensor(Tensor)>;

Act activation_kind(const FoldStep& step) {
  if (!step.activation) return Act::none;
  return step.activation->kind() == ActivationKind::relu6 ? Act::relu6 : Act::relu;
}

// Builds the steps of a module tree.
class Compiler {
 public:
  explicit Compiler(const PackedModel& packed) : packed_(packed) {}
  void module(Module& m, const std::string& path, std::vector<Step>& steps);

 private:
  std::shared_ptr<LayerRunner> runner(const std::vector<FoldStep>& plan, size_t i, bool accumulate);
  void chain(const std::vector<FoldStep>& plan, std::vector<Step>& steps);
  Step basic_block(Module& b, const std::string& path);
  Step inverted_residual(InvertedResidual& b, const std::string& path);
  const PackedLayer& layer(const FoldStep& step);

  const PackedModel& packed_;
};

// The packed record of a weighted step, checked against the module (kind, geometry, folded batch norm).
const PackedLayer& Compiler::layer(const FoldStep& step) {
  const std::string& path = step.path;
  const PackedLayer& l = packed_.layer(path);
  const WeightedLayer& w = *weighted_layer_of(*step.module);
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
  QAT_CHECK(l.batch_norm == step.batch_norm_path, "integer inference: layer '", path, "' folds batch norm '",
            l.batch_norm, "' but the architecture has '", step.batch_norm_path, "' after it");
  return l;
}

// The input grid `producer` writes codes of for `consumer`: when both run int8.
std::optional<InputGrid> requantize(const PackedLayer& producer, const PackedLayer& consumer) {
  return runs_int8(producer) && runs_int8(consumer) ? consumer.input : std::nullopt;
}

// The runner of weighted step i: an int8 layer whose output feeds another int8 layer writes the codes of
// that layer's input; `accumulate` adds its result onto the destination.
std::shared_ptr<LayerRunner> Compiler::runner(const std::vector<FoldStep>& plan, size_t i, bool accumulate) {
  const PackedLayer& current = layer(plan[i]);
  LayerOutput output{.requantize = std::nullopt, .accumulate = accumulate, .act = activation_kind(plan[i])};
  if (plan[i].consumer) output.requantize = requantize(current, layer(plan[*plan[i].consumer]));
  return std::make_shared<LayerRunner>(current, output);
}

// Steps of a chain: weighted steps through their runners, the others as modules.
void Compiler::chain(const std::vector<FoldStep>& plan, std::vector<Step>& steps) {
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!plan[i].weighted()) {
      module(*plan[i].module, plan[i].path, steps);
      continue;
    }
    std::shared_ptr<LayerRunner> r = runner(plan, i, false);
    steps.push_back([r](const Tensor& x) { return r->run(x); });
  }
}

void Compiler::module(Module& m, const std::string& path, std::vector<Step>& steps) {
  if (weighted_layer_of(m)) return chain({single_step(m, path)}, steps);
  if (dynamic_cast<Sequential*>(&m)) return chain(fold_plan(m, path, true), steps);
  if (dynamic_cast<BasicBlock*>(&m)) return steps.push_back(basic_block(m, path));
  if (auto* b = dynamic_cast<InvertedResidual*>(&m)) return steps.push_back(inverted_residual(*b, path));
  if (const auto* a = dynamic_cast<const Activation*>(&m)) {
    QAT_CHECK(a->kind() == ActivationKind::relu || a->kind() == ActivationKind::relu6,
              "integer inference: activation '", path, "' is not ReLU or ReLU6");
    const bool six = a->kind() == ActivationKind::relu6;
    return steps.push_back([six](const Tensor& x) {
      return six ? kernels::eltwise_forward(dnnl::algorithm::eltwise_clip, x, 0.0f, 6.0f)
                 : kernels::eltwise_forward(dnnl::algorithm::eltwise_relu, x);
    });
  }
  if (auto* p = dynamic_cast<Pool2d*>(&m)) {
    QAT_CHECK(p->options().kind == PoolKind::global_average, "integer inference: pooling '", path,
              "' is not a global average pool");
    // The kernel and arithmetic of global_avg_pool2d, so the float values match the fake-quantized model.
    return steps.push_back([](const Tensor& x) {
      const int64_t h = x.dim(2), w = x.dim(3);
      return kernels::pool2d_forward(
                 x, {dnnl::algorithm::pooling_avg_include_padding, {h, w}, {h, w}, {0, 0}}, false)
          .dst;
    });
  }
  if (dynamic_cast<const Flatten*>(&m))
    return steps.push_back([](const Tensor& x) { return x.reshape({x.dim(0), x.numel() / x.dim(0)}); });
  if (dynamic_cast<const Identity*>(&m) || dynamic_cast<const Dropout*>(&m))
    return;  // identities in evaluation
  QAT_CHECK(!dynamic_cast<const BatchNorm2d*>(&m), "integer inference: batch norm '", path,
            "' does not follow a convolution, so it is not folded");
  detail::fail("integer inference: unsupported module '", path, "' (", module_type_name(m), ")");
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): conv1 writes the codes of conv2's input directly
// (both int8); conv2 adds its result onto the shortcut's (x itself, updated in place, or the projection's).
Step Compiler::basic_block(Module& b, const std::string& path) {
  const std::vector<FoldStep> plan = fold_plan(b, path, false);
  QAT_CHECK(plan.size() == 3 && plan[0].weighted() && plan[1].weighted() && !plan[2].weighted(),
            "integer inference: block '", path, "' is not conv1+bn1, conv2+bn2, shortcut");
  const PackedLayer& conv1 = layer(plan[0]);
  const PackedLayer& conv2 = layer(plan[1]);
  auto first = std::make_shared<LayerRunner>(conv1, LayerOutput{.requantize = requantize(conv1, conv2)});
  auto second = std::make_shared<LayerRunner>(
      conv2, LayerOutput{.requantize = std::nullopt, .accumulate = true, .relu_after_sum = true});
  const std::vector<FoldStep> shortcut = fold_plan(*plan[2].module, plan[2].path, true);
  std::shared_ptr<LayerRunner> projection;
  if (!shortcut.empty()) {
    QAT_CHECK(shortcut.size() == 1 && shortcut[0].weighted(), "integer inference: shortcut '", plan[2].path,
              "' is not one conv+bn");
    projection = std::make_shared<LayerRunner>(layer(shortcut[0]), LayerOutput{});
  }
  return [first, second, projection](const Tensor& x) {
    const Tensor codes = first->run(x);
    Tensor sum = projection ? projection->run(x) : x;
    second->run_into(codes, sum);
    return sum;
  };
}

// [expand →] depthwise → project (+ x): each layer writes the codes of the next one's input; with the
// residual, the projection adds its result onto x in place.
Step Compiler::inverted_residual(InvertedResidual& b, const std::string& path) {
  const std::vector<FoldStep> plan = fold_plan(b, path, true);
  std::vector<std::shared_ptr<LayerRunner>> runners;
  for (size_t i = 0; i < plan.size(); ++i) {
    QAT_CHECK(plan[i].weighted(), "integer inference: '", plan[i].path,
              "' inside a residual block is not a conv/linear layer");
    runners.push_back(runner(plan, i, b.residual() && i + 1 == plan.size()));
  }
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
