#include "quant/fold_plan.h"

#include "layers/sequential.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

const Activation* foldable_activation(const Module* m) {
  const auto* a = dynamic_cast<const Activation*>(m);
  return a && (a->kind() == ActivationKind::relu || a->kind() == ActivationKind::relu6) ? a : nullptr;
}

// (module, path) of the children of `chain`, nested Sequentials expanded when `flatten`.
void chain_items(Module& chain, const std::string& path, bool flatten,
                 std::vector<std::pair<Module*, std::string>>& items) {
  for (const auto& [name, child] : chain.children()) {
    const std::string at = child_path(path, name);
    if (flatten && dynamic_cast<Sequential*>(child.get()))
      chain_items(*child, at, flatten, items);
    else
      items.emplace_back(child.get(), at);
  }
}

}  // namespace

bool FoldStep::weighted() const { return weighted_layer_of(*module) != nullptr; }

std::vector<FoldStep> fold_plan(Module& chain, const std::string& path, bool flatten) {
  std::vector<std::pair<Module*, std::string>> items;
  chain_items(chain, path, flatten, items);
  std::vector<FoldStep> steps;
  for (size_t i = 0; i < items.size(); ++i) {
    FoldStep step = single_step(*items[i].first, items[i].second);
    auto next = [&]() { return i + 1 < items.size() ? items[i + 1].first : nullptr; };
    if (step.weighted()) {
      if ((step.batch_norm = dynamic_cast<BatchNorm2d*>(next()))) step.batch_norm_path = items[++i].second;
      if ((step.activation = foldable_activation(next()))) step.activation_path = items[++i].second;
    }
    steps.push_back(std::move(step));
  }
  for (size_t i = 0; i + 1 < steps.size(); ++i)
    if (steps[i].weighted() && steps[i + 1].weighted()) steps[i].consumer = i + 1;
  return steps;
}

FoldStep single_step(Module& module, const std::string& path) { return {.module = &module, .path = path}; }

}  // namespace qat
