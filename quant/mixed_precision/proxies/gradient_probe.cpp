#include "quant/mixed_precision/proxies/gradient_probe.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/reduce.h"
#include "engine/error.h"
#include "layers/module_walker.h"

namespace qat {
namespace {

Eigen::VectorXd to_eigen(const Tensor& t) {
  const std::vector<float> values = t.to_vector();
  Eigen::VectorXd out(static_cast<Eigen::Index>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) out(static_cast<Eigen::Index>(i)) = values[i];
  return out;
}

Tensor to_tensor(const Eigen::VectorXd& v, const Shape& shape) {
  std::vector<float> values(static_cast<size_t>(v.size()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(v(static_cast<Eigen::Index>(i)));
  return Tensor::from_vector(shape, values);
}

}  // namespace

GradientProbe::GradientProbe(Module& model, const std::vector<std::string>& paths, Tensor inputs,
                             Tensor targets)
    : model_(model), paths_(paths), inputs_(std::move(inputs)), targets_(std::move(targets)) {
  layers_.resize(paths.size());
  walk_modules(model, [&](const ModuleSlot& slot) {
    auto weighted = std::dynamic_pointer_cast<WeightedLayer>(slot.module);
    if (!weighted) return Walk::descend;
    for (size_t i = 0; i < paths.size(); ++i)
      if (paths[i] == slot.path) {
        layers_[i] = std::make_shared<QuantizedLayer>(weighted, nullptr, nullptr);
        slot.parent.replace_child(slot.name, layers_[i]);
      }
    return Walk::skip;
  });
  for (size_t i = 0; i < paths.size(); ++i)
    QAT_CHECK(layers_[i], "proxy: the model has no conv/linear layer '", paths[i], "'");
  model_.eval();
}

const Tensor& GradientProbe::weight(size_t i) const { return layers_.at(i)->layer().weight().data(); }

Eigen::VectorXd GradientProbe::weight_vector(size_t i) const { return to_eigen(weight(i)); }

WeightBlocks GradientProbe::backward_of(const Variable& loss) {
  loss.backward();
  ++passes_;
  WeightBlocks out;
  for (const auto& layer : layers_) {
    const Variable& w = layer->layer().weight();
    out.push_back(w.grad().defined() ? to_eigen(w.grad()) : Eigen::VectorXd::Zero(w.data().numel()));
  }
  return out;
}

WeightBlocks GradientProbe::gradients(int64_t begin, int64_t end) {
  for (Variable& p : model_.parameters()) p.zero_grad();
  const bool all = begin == 0 && end == 0;
  const Tensor x = all ? inputs_ : inputs_.slice_rows(begin, end);
  const Tensor y = all ? targets_ : targets_.slice_rows(begin, end);
  return backward_of(cross_entropy(model_.forward(Variable(x)), y));
}

void GradientProbe::set_weights(const WeightBlocks& w) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    Variable weight = layers_[i]->layer().weight();
    weight.set_data(to_tensor(w[i], weight.data().shape()));
  }
}

WeightBlocks GradientProbe::hessian_vector(const WeightBlocks& v) {
  QAT_CHECK(v.size() == layers_.size(), "hessian_vector: ", v.size(), " blocks for ", layers_.size(),
            " layers");
  std::vector<Tensor> saved;
  WeightBlocks w, plus, minus;
  double w_norm2 = 0, v_norm2 = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    saved.push_back(layers_[i]->layer().weight().data());
    w.push_back(to_eigen(saved.back()));
    if (v[i].size() == 0) continue;
    w_norm2 += w[i].squaredNorm();
    v_norm2 += v[i].squaredNorm();
  }
  QAT_CHECK(v_norm2 > 0, "hessian_vector: v is zero");
  const double eps = 1e-3 * std::sqrt(w_norm2 / v_norm2);
  for (size_t i = 0; i < layers_.size(); ++i) {
    plus.push_back(v[i].size() ? Eigen::VectorXd(w[i] + eps * v[i]) : w[i]);
    minus.push_back(v[i].size() ? Eigen::VectorXd(w[i] - eps * v[i]) : w[i]);
  }
  set_weights(plus);
  const WeightBlocks g_plus = gradients();
  set_weights(minus);
  const WeightBlocks g_minus = gradients();
  for (size_t i = 0; i < layers_.size(); ++i) {
    Variable weight = layers_[i]->layer().weight();
    weight.set_data(saved[i]);
  }
  WeightBlocks hv;
  for (size_t i = 0; i < layers_.size(); ++i) hv.push_back((g_plus[i] - g_minus[i]) / (2 * eps));
  return hv;
}

std::vector<Eigen::MatrixXd> GradientProbe::outputs(int64_t rows) {
  QAT_CHECK(rows >= 1 && rows <= inputs_.dim(0), "proxy: ", rows, " feature rows from a batch of ",
            inputs_.dim(0));
  std::vector<Eigen::MatrixXd> out(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->set_tap([&out, i, rows](const Tensor&, const Tensor& output) {
      const Eigen::VectorXd flat = to_eigen(output);
      // Row-major [rows, features] into a column-major matrix.
      out[i] = Eigen::Map<const Eigen::MatrixXd>(flat.data(), flat.size() / rows, rows).transpose();
    });
  {
    NoGrad no_grad;
    model_.forward(Variable(inputs_.slice_rows(0, rows)));
  }
  for (const auto& layer : layers_) layer->set_tap({});
  return out;
}

WeightBlocks GradientProbe::virtual_gradients() {
  for (Variable& p : model_.parameters()) p.zero_grad();
  return backward_of(sum(model_.forward(Variable(Tensor::full(inputs_.shape(), 1.0f)))));
}

}  // namespace qat
