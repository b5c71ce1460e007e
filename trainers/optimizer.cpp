#include "trainers/optimizer.h"

#include <cmath>
#include <cstring>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/parse_number.h"

namespace qat {

Optimizer::Optimizer(std::vector<ParamGroup> groups, float lr) : groups_(std::move(groups)), lr_(lr) {
  for (const auto& group : groups_) count_ += group.params.size();
}

void Optimizer::zero_grad() {
  for (auto& group : groups_)
    for (auto& param : group.params) param.zero_grad();
}

std::vector<Variable> Optimizer::parameters() const {
  std::vector<Variable> all;
  for (const auto& group : groups_) all.insert(all.end(), group.params.begin(), group.params.end());
  return all;
}

double Optimizer::clip_grad_norm(double max_norm) {
  double squares = 0.0;
  for (auto& group : groups_)
    for (auto& param : group.params) {
      if (!param.grad().defined()) continue;
      const Tensor g = param.grad().contiguous();
      const float* v = g.data<float>();
      for (int64_t i = 0; i < g.numel(); ++i) squares += static_cast<double>(v[i]) * v[i];
    }
  const double norm = std::sqrt(squares);
  if (norm <= max_norm) return norm;
  const auto factor = static_cast<float>(max_norm / (norm + 1e-6));
  for (auto& group : groups_)
    for (auto& param : group.params) {
      if (!param.grad().defined()) continue;
      // Scaling the whole buffer also covers blocked layouts: their padding is zero and stays zero.
      Tensor g = param.grad();
      float* v = static_cast<float*>(g.raw());
      const int64_t count = static_cast<int64_t>(g.desc().get_size() / sizeof(float));
      for (int64_t i = 0; i < count; ++i) v[i] *= factor;
    }
  return norm;
}

std::vector<Tensor>& Optimizer::slot(const std::string& name) {
  auto& buffers = slots_[name];
  buffers.resize(count_);
  return buffers;
}

void Optimizer::for_each_gradient(const std::function<void(size_t, Tensor&, const Tensor&, float)>& f) {
  NoGrad no_grad;
  size_t index = 0;
  for (auto& group : groups_)
    for (auto& param : group.params) {
      const size_t k = index++;
      if (!param.grad().defined()) continue;
      Tensor data = param.data();
      f(k, data, param.grad().to_layout(data.desc()), group.weight_decay);
    }
}

Tensor Optimizer::zeros_like(const Tensor& like) {
  Tensor t = Tensor::empty_like_desc(like.desc(), like.shape());
  std::memset(t.raw(), 0, like.desc().get_size());
  return t;
}

std::map<std::string, Tensor> Optimizer::state() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, buffers] : slots_)
    for (size_t i = 0; i < buffers.size(); ++i)
      if (buffers[i].defined()) out[name + "." + std::to_string(i)] = buffers[i].contiguous();
  return out;
}

void Optimizer::load_state(const std::map<std::string, Tensor>& state) {
  slots_.clear();
  for (const auto& [key, tensor] : state) {
    const size_t dot = key.rfind('.');
    QAT_CHECK(dot != std::string::npos, "optimizer state: malformed entry '", key, "'");
    const int64_t index = parse_int(key.substr(dot + 1), "optimizer state: entry '" + key + "'");
    QAT_CHECK(index >= 0 && static_cast<size_t>(index) < count_, "optimizer state: entry '", key,
              "' for parameter ", index, " of ", count_);
    slot(key.substr(0, dot))[static_cast<size_t>(index)] = tensor.clone();
  }
}

}  // namespace qat
