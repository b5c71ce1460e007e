#include "trainers/weight_ema.h"

#include <utility>

#include "engine/error.h"

namespace qat {

WeightEma::WeightEma(Module& model, float decay) : params_(model.named_parameters()), decay_(decay) {
  QAT_CHECK(decay > 0.0f && decay < 1.0f, "WeightEma: decay must lie in (0, 1), got ", decay);
  for (const auto& [name, param] : params_) shadow_.push_back(param.data().clone());
}

void WeightEma::update() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor current = params_[i].second.data().contiguous();
    const float* p = current.data<float>();
    float* s = shadow_[i].data<float>();
    const int64_t n = current.numel();
#pragma omp parallel for if (n > 65536)
    for (int64_t k = 0; k < n; ++k) s[k] = decay_ * s[k] + (1.0f - decay_) * p[k];
  }
}

void WeightEma::swap() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor live = params_[i].second.data().contiguous();
    params_[i].second.set_data(std::move(shadow_[i]));
    shadow_[i] = std::move(live);
  }
}

std::map<std::string, Tensor> WeightEma::state() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) out[params_[i].first] = shadow_[i];
  return out;
}

void WeightEma::load_state(const std::map<std::string, Tensor>& state) {
  QAT_CHECK(state.size() == params_.size(), "WeightEma: state has ", state.size(), " entries, model has ",
            params_.size(), " parameters");
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto it = state.find(params_[i].first);
    QAT_CHECK(it != state.end(), "WeightEma: state lacks parameter '", params_[i].first, "'");
    QAT_CHECK(it->second.shape() == shadow_[i].shape(), "WeightEma: '", params_[i].first, "' has shape ",
              it->second.str(), ", expected ", shadow_[i].str());
    shadow_[i] = it->second.contiguous().clone();
  }
}

}  // namespace qat
