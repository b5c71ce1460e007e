#include "quant/quantizers/minmax_quantizer.h"

#include <algorithm>
#include <cmath>

#include "quant/grid_fake_quant.h"
#include "quant/quant_tensor.h"

namespace qat {
namespace {

// Running-average momentum of activation ranges (PyTorch's MovingAverageMinMaxObserver default 0.01 is
// slow for short runs; 0.1 matches batch norm's).
constexpr float kActivationMomentum = 0.1f;

}  // namespace

MinMaxQuantizer::MinMaxQuantizer(const QuantizerOptions& options)
    : Quantizer(options),
      range_min_(Tensor::zeros(scalar_shape())),
      range_max_(Tensor::zeros(scalar_shape())) {
  register_buffer("range_min", range_min_);
  register_buffer("range_max", range_max_);
}

void MinMaxQuantizer::observe(const Tensor& plain, float momentum) {
  const int64_t channels = channels_of(plain);
  const std::vector<float> lo = channel_min(plain, channels), hi = channel_max(plain, channels);
  float* pmin = range_min_.data<float>();
  float* pmax = range_max_.data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    // The range always holds 0 so that zero (padding, ReLU's zeros) is exactly representable.
    pmin[c] += momentum * (std::min(lo[c], 0.0f) - pmin[c]);
    pmax[c] += momentum * (std::max(hi[c], 0.0f) - pmax[c]);
  }
}

void MinMaxQuantizer::initialize(const Tensor& x) { observe(x, 1.0f); }

Variable MinMaxQuantizer::quantize(const Variable& x) {
  const bool weight = options().target == QuantTarget::weight;
  if (weight || is_training()) observe(x.data().contiguous(), weight ? 1.0f : kActivationMomentum);
  const QuantGrid g = grid();
  const auto channels = static_cast<int64_t>(g.scale.size());
  return grid_fake_quant("minmax", x,
                         {.step = Tensor::from_vector({channels}, g.scale),
                          .offset = Tensor::from_vector({channels}, g.offset),
                          .qmin = static_cast<float>(g.qmin),
                          .qmax = static_cast<float>(g.qmax)},
                         {}, {});
}

QuantGrid MinMaxQuantizer::grid() const {
  const float top = std::exp2(static_cast<float>(bits())) - 1.0f;
  QuantGrid g{.scale = {}, .offset = {}, .qmin = 0, .qmax = static_cast<int64_t>(top), .bits = bits()};
  const float* pmin = range_min_.data<float>();
  const float* pmax = range_max_.data<float>();
  for (int64_t c = 0; c < range_min_.numel(); ++c) {
    const float step = std::max(pmax[c] - pmin[c], 1e-8f) / top;
    const float zero_point = std::clamp(std::nearbyint(-pmin[c] / step), 0.0f, top);
    g.scale.push_back(step);
    g.offset.push_back(-zero_point * step);
  }
  return g;
}

}  // namespace qat
