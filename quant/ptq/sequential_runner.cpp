#include "quant/ptq/sequential_runner.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "layers/conv2d.h"
#include "quant/ptq/hessian_accumulator.h"

namespace qat::ptq {

namespace {

struct TappedLayer {
  std::string path;
  QuantizedLayer* layer;
};

void collect_layers(Module& m, const std::string& path, std::vector<TappedLayer>& out) {
  if (auto* q = dynamic_cast<QuantizedLayer*>(&m)) return out.push_back({path, q});
  for (const auto& [name, child] : m.children()) collect_layers(*child, child_path(path, name), out);
}

bool has_quantized_layers(Module& m) {
  std::vector<TappedLayer> layers;
  collect_layers(m, "", layers);
  return !layers.empty();
}

std::unique_ptr<HessianAccumulator> accumulator_for(const WeightedLayer& layer) {
  const Shape& w = layer.weight().shape();
  const int64_t columns = layer.weight().numel() / w[0];
  const auto* conv = dynamic_cast<const Conv2d*>(&layer);
  return std::make_unique<HessianAccumulator>(columns, conv ? conv->options().groups : 1);
}

// One evaluation pass of `block` over `inputs` with taps on `layers`: their Hessians, in execution order.
std::vector<std::pair<TappedLayer, std::vector<Eigen::MatrixXd>>> calibrate(
    const RunnerBlock& block, const std::vector<Tensor>& inputs, const std::vector<TappedLayer>& layers) {
  std::map<QuantizedLayer*, std::unique_ptr<HessianAccumulator>> acc;
  std::vector<TappedLayer> order;
  for (const TappedLayer& t : layers)
    t.layer->set_tap([&acc, &order, t](const Tensor& x, const Tensor&) {
      auto& a = acc[t.layer];
      if (!a) a = accumulator_for(t.layer->layer()), order.push_back(t);
      if (const auto* conv = dynamic_cast<const Conv2d*>(&t.layer->layer()))
        return a->add_conv(x, conv->options());
      a->add_linear(x);
    });
  for (int64_t b = 0; b < static_cast<int64_t>(inputs.size()); ++b) block.forward(b, inputs[b]);
  for (const TappedLayer& t : layers) t.layer->set_tap({});
  QAT_CHECK(order.size() == layers.size(), "SequentialRunner: ", layers.size() - order.size(),
            " layer(s) of block '", block.path, "' saw no input");
  std::vector<std::pair<TappedLayer, std::vector<Eigen::MatrixXd>>> out;
  out.reserve(order.size());
  for (const TappedLayer& t : order) out.emplace_back(t, acc[t.layer]->hessians());
  return out;
}

std::vector<Tensor> outputs_of(const RunnerBlock& block, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (int64_t b = 0; b < static_cast<int64_t>(inputs.size()); ++b)
    out.push_back(block.forward(b, inputs[b]));
  return out;
}

}  // namespace

SequentialRunner::SequentialRunner(std::vector<RunnerBlock> blocks, SequentialOptions options)
    : blocks_(std::move(blocks)), options_(options) {
  for (const RunnerBlock& b : blocks_)
    QAT_CHECK(b.module && b.forward, "SequentialRunner: block '", b.path, "' has no module or forward");
}

// Block i: calibrate, quantize (one layer at a time with true_sequential), then its outputs feed block
// i + 1 — after quantization when sequential, from the float block otherwise.
std::vector<Tensor> SequentialRunner::run(std::vector<Tensor> inputs, const LayerQuantizer& quantize,
                                          const BlockDone& done) const {
  NoGrad no_grad;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const RunnerBlock& block = blocks_[i];
    QAT_CHECK(!block.module->is_training(), "SequentialRunner: block '", block.path, "' is in training mode");
    std::vector<TappedLayer> pending;
    collect_layers(*block.module, block.path, pending);
    std::vector<Tensor> float_outputs;
    if (!options_.sequential) float_outputs = outputs_of(block, inputs);
    while (!pending.empty()) {
      auto calibrated = calibrate(block, inputs, pending);
      if (options_.true_sequential) calibrated.resize(1);
      for (const auto& [t, h] : calibrated) {
        quantize(t.path, *t.layer, h);
        const QuantizedLayer* done_layer = t.layer;
        std::erase_if(pending, [done_layer](const TappedLayer& p) { return p.layer == done_layer; });
      }
    }
    inputs = options_.sequential ? outputs_of(block, inputs) : std::move(float_outputs);
    if (done) done(i, block);
  }
  return inputs;
}

std::vector<RunnerBlock> sequential_blocks(Sequential& model) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // anchor child, children run
  std::vector<std::string> leading;
  for (const auto& [name, child] : model.children()) {
    if (has_quantized_layers(*child)) groups.push_back({name, std::exchange(leading, {})});
    (groups.empty() ? leading : groups.back().second).push_back(name);
  }
  QAT_CHECK(!groups.empty(), "sequential_blocks: the model has no quantized layers");
  std::vector<RunnerBlock> blocks;
  for (const auto& group : groups) {
    const std::string& anchor = group.first;
    blocks.push_back({anchor, &child_of(model, anchor, anchor, "sequential_blocks"),
                      [&model, names = group.second](int64_t, const Tensor& x) {
                        Variable v(x);
                        for (const std::string& n : names) v = model.call_child(n, v);
                        return v.data();
                      }});
  }
  return blocks;
}

}  // namespace qat::ptq
