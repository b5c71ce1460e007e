#include "autograd/variable.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/kernels/accumulate.h"

namespace qat {
namespace {

std::atomic<uint64_t> next_sequence{0};

// Adds `grad` into `slot`. The first gradient is taken as is; later ones sum into a fresh tensor,
// because an op may hand the same tensor to several inputs (add passes its grad_output through). The sum
// keeps the slot's layout: a blocked gradient stays blocked for the oneDNN op that consumes it.
void accumulate_into(Tensor& slot, const Tensor& grad) {
  slot = slot.defined() ? kernels::accumulate(slot, grad) : grad;
}

// Every node reachable from `root`, latest first (reverse creation order is a topological order).
std::vector<Node*> reachable_nodes(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen{root};
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    order.push_back(node);
    for (const Edge& edge : node->edges)
      if (edge.node && seen.insert(edge.node.get()).second) stack.push_back(edge.node.get());
  }
  std::sort(order.begin(), order.end(), [](Node* a, Node* b) { return a->sequence > b->sequence; });
  return order;
}

// For every leaf with a grad-ready hook, how many edges of `nodes` still lead to it.
std::unordered_map<VariableImpl*, int> hooked_leaf_edges(const std::vector<Node*>& nodes) {
  std::unordered_map<VariableImpl*, int> count;
  for (const Node* node : nodes)
    for (const Edge& edge : node->edges)
      if (edge.leaf && edge.leaf->on_grad_ready) ++count[edge.leaf.get()];
  return count;
}

// Called once `node` has passed its gradients on (or got none): a hooked leaf whose last edge this was
// has its final gradient.
void release_leaf_edges(const Node& node, std::unordered_map<VariableImpl*, int>& remaining) {
  for (const Edge& edge : node.edges) {
    if (!edge.leaf) continue;
    auto it = remaining.find(edge.leaf.get());
    if (it != remaining.end() && --it->second == 0) edge.leaf->on_grad_ready();
  }
}

std::vector<Tensor> run_node(Node& node, const Tensor& grad_output) {
  QAT_CHECK(node.backward, "backward through a freed graph: ", node.signature(),
            " already ran its backward and released its saved tensors (pass retain_graph=true to "
            "backpropagate twice)");
  std::vector<Tensor> grads;
  try {
    grads = node.backward(grad_output);
  } catch (const Error& e) {
    detail::fail("in backward of ", node.signature(), ": ", e.what());
  }
  QAT_CHECK(grads.size() == node.edges.size(), "backward of ", node.signature(), " returned ", grads.size(),
            " gradients for ", node.edges.size(), " inputs");
  for (size_t i = 0; i < grads.size(); ++i)
    QAT_CHECK(!grads[i].defined() || grads[i].shape() == node.input_shapes[i], "backward of ",
              node.signature(), " produced gradient ", grads[i].str(), " for input ", i);
  return grads;
}

}  // namespace

Variable::Variable(Tensor data, bool requires_grad) : impl_(std::make_shared<VariableImpl>()) {
  impl_->data = std::move(data);
  impl_->requires_grad = requires_grad;
}

void Variable::set_data(Tensor data) {
  QAT_CHECK(data.shape() == impl_->data.shape(), "Variable::set_data: new value ", data.str(),
            " does not match ", impl_->data.str());
  impl_->data = std::move(data);
}

void Variable::set_grad_ready_hook(std::function<void()> hook) {
  QAT_CHECK(is_leaf(), "set_grad_ready_hook: only leaves get one, this variable was made by ",
            impl_->grad_fn->signature());
  impl_->on_grad_ready = std::move(hook);
}

void Variable::set_requires_grad(bool trainable) {
  QAT_CHECK(is_leaf(), "set_requires_grad: only leaves can change, this variable was made by ",
            impl_->grad_fn->signature());
  impl_->requires_grad = trainable;
}

Variable Variable::record(const char* op, Tensor output, const std::vector<Variable>& inputs,
                          BackwardFn backward) {
  Variable result(std::move(output));
  if (!GradMode::enabled()) return result;
  const bool any = std::any_of(inputs.begin(), inputs.end(),
                               [](const Variable& v) { return v.defined() && v.requires_grad(); });
  if (!any) return result;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->sequence = next_sequence++;
  node->backward = std::move(backward);
  node->edges.reserve(inputs.size());
  node->input_shapes.reserve(inputs.size());
  for (const Variable& input : inputs) {
    Edge edge;
    if (input.defined() && input.requires_grad()) {
      if (input.is_leaf())
        edge.leaf = input.impl_;
      else
        edge.node = input.impl_->grad_fn;
    }
    node->edges.push_back(std::move(edge));
    node->input_shapes.push_back(input.defined() ? input.shape() : Shape{});
  }
  result.impl_->grad_fn = std::move(node);
  result.impl_->requires_grad = true;
  return result;
}

void Variable::backward(bool retain_graph) const {
  QAT_CHECK(numel() == 1, "backward: implicit seed needs a one-element output, got ", str());
  backward(Tensor::full(shape(), 1.0f), retain_graph);
}

void Variable::backward(const Tensor& seed, bool retain_graph) const {
  QAT_CHECK(seed.shape() == shape(), "backward: seed ", seed.str(), " does not match output ", str());
  QAT_CHECK(requires_grad(), "backward: output ", str(), " does not require grad (no input is trainable, ",
            "or it was computed under NoGrad)");
  if (is_leaf()) {
    accumulate_into(impl_->grad, seed.clone());
    if (impl_->on_grad_ready) impl_->on_grad_ready();
    return;
  }
  NoGrad no_grad;
  std::unordered_map<Node*, Tensor> pending{{impl_->grad_fn.get(), seed}};
  const std::vector<Node*> nodes = reachable_nodes(impl_->grad_fn.get());
  std::unordered_map<VariableImpl*, int> hooked_edges = hooked_leaf_edges(nodes);
  for (Node* node : nodes) {
    auto it = pending.find(node);
    if (it == pending.end()) {
      release_leaf_edges(*node, hooked_edges);
      continue;
    }
    const Tensor grad_output = std::move(it->second);
    pending.erase(it);
    const std::vector<Tensor> grads = run_node(*node, grad_output);
    if (!retain_graph) node->backward = nullptr;
    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& edge = node->edges[i];
      if (!grads[i].defined() || !edge.active()) continue;
      if (edge.leaf)
        accumulate_into(edge.leaf->grad, grads[i]);
      else
        accumulate_into(pending[edge.node.get()], grads[i]);
    }
    release_leaf_edges(*node, hooked_edges);
  }
}

}  // namespace qat
