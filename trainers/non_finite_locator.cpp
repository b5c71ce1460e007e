#include "trainers/non_finite_locator.h"

#include <cmath>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "layers/module_walker.h"

namespace qat {
namespace {

bool finite(const Tensor& t) {
  if (!t.defined() || (t.dtype() != DType::f32 && t.dtype() != DType::bf16)) return true;
  const Tensor plain = t.dtype() == DType::bf16 ? t.to(DType::f32) : t.contiguous();
  const float* v = plain.data<float>();
  for (int64_t i = 0; i < plain.numel(); ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

// What the probes saw first: the layer whose output turned non-finite.
struct FirstNonFinite {
  std::optional<std::string> path;
  std::string type;
  bool input_finite = true;
};

// Stands in a layer's slot (a decorator: the wrapped layer keeps its parameter names) and notes the first
// layer, in execution order, whose output is not finite.
class Probe : public Module {
 public:
  Probe(std::shared_ptr<Module> inner, std::string path, FirstNonFinite& seen)
      : inner_(register_module("", std::move(inner))), path_(std::move(path)), seen_(seen) {}
  Variable forward(const Variable& x) override {
    Variable y = inner_->forward(x);
    if (!seen_.path && !finite(y.data())) {
      seen_.path = path_;
      seen_.type = module_type_name(*inner_);
      seen_.input_finite = finite(x.data());
    }
    return y;
  }
  const std::shared_ptr<Module>& inner() const { return inner_; }

 private:
  std::shared_ptr<Module> inner_;
  std::string path_;
  FirstNonFinite& seen_;
};

// A layer observed in place: where it sits and the layer itself.
struct Slot {
  Module* parent;
  std::string name;
  std::string path;
  std::shared_ptr<Module> layer;
};

// Leaf layers and decorators (a child named "") are observed whole; composites are descended into.
std::vector<Slot> observed_slots(Module& model) {
  std::vector<Slot> slots;
  walk_modules(model, [&](const ModuleSlot& s) {
    bool decorator = false;
    for (const auto& [name, child] : s.module->children()) decorator |= name.empty();
    if (!s.module->children().empty() && !decorator) return Walk::descend;
    if (!s.name.empty()) slots.push_back({&s.parent, s.name, s.path, s.module});
    return Walk::skip;
  });
  return slots;
}

// A quantized layer's type ("qat::QuantizedLayer") or a quantizer's parameter ("conv1.wq.alpha").
bool is_quantized(const std::string& name) {
  for (const char* mark : {"Quantiz", ".wq.", ".aq."})
    if (name.find(mark) != std::string::npos) return true;
  return false;
}

std::string cause(double lr, bool quantized) {
  std::ostringstream out;
  out << "likely cause: a learning rate too high for this model (" << lr << ")";
  if (quantized) out << ", or a quantizer with too few bits / a collapsed scale";
  out << "; lower the learning rate, or clip gradients";
  return out.str();
}

}  // namespace

std::string locate_non_finite(Module& model, const std::function<Variable()>& forward_loss, double lr) {
  for (const auto& [name, p] : model.named_parameters())
    if (!finite(p.data()))
      return "parameter '" + name + "' is already non-finite (the previous update overflowed); " +
             cause(lr, false);

  FirstNonFinite seen;
  const std::vector<Slot> slots = observed_slots(model);
  for (const Slot& s : slots) s.parent->replace_child(s.name, std::make_shared<Probe>(s.layer, s.path, seen));
  std::string failure;
  try {
    const Variable loss = forward_loss();
    if (!seen.path && !std::isfinite(loss.data().item()))
      failure = "the loss itself is the first non-finite value (every layer output is finite)";
    loss.backward();
  } catch (const std::exception& e) {
    failure = std::string("re-running the step failed: ") + e.what();
  }
  for (const Slot& s : slots) s.parent->replace_child(s.name, s.layer);
  if (seen.path)
    return "the output of layer '" + *seen.path + "' (" + seen.type + ") is the first non-finite value" +
           (seen.input_finite ? " (its input is finite)" : "") + "; " + cause(lr, is_quantized(seen.type));
  if (!failure.empty()) return failure + "; " + cause(lr, false);
  const auto parameters = model.named_parameters();
  // Backward order: the parameter nearest the loss first.
  for (size_t i = parameters.size(); i-- > 0;) {
    const auto& [name, parameter] = parameters[i];
    if (!finite(parameter.grad()))
      return "the gradient of '" + name + "' is the first non-finite value of the backward pass; " +
             cause(lr, is_quantized(name));
  }
  return "no non-finite value reproduced when the step was re-run; " + cause(lr, false);
}

}  // namespace qat
