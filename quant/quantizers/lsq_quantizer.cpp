#include "quant/quantizers/lsq_quantizer.h"

#include <cmath>

#include "quant/grid_fake_quant.h"
#include "quant/quant_tensor.h"

namespace qat {

LsqQuantizer::LsqQuantizer(const QuantizerOptions& options, bool learn_offset)
    : Quantizer(options), learn_offset_(learn_offset && options.target == QuantTarget::activation) {
  step_ = register_parameter("step", Tensor::full(scalar_shape(), 1.0f));
  if (learn_offset_) offset_ = register_parameter("offset", Tensor::full({1}, 0.0f));
}

IntegerRange LsqQuantizer::range() const {
  // LSQ+ shifts an unsigned grid by β, which covers negative inputs too.
  return integer_range(bits(), is_signed() && !learn_offset_);
}

void LsqQuantizer::initialize(const Tensor& x) {
  const int64_t channels = channels_of(x);
  const IntegerRange r = range();
  std::vector<double> step(channels);
  if (learn_offset_) {
    // LSQ+'s min/max initialization: the grid spans the first batch's range.
    const float lo = channel_min(x, 1)[0], hi = channel_max(x, 1)[0];
    step[0] = std::max(hi - lo, 1e-8f) / (r.qmax - r.qmin);
    offset_.set_data(vector_tensor({lo}));
  } else {
    const std::vector<float> mean_abs = channel_mean_abs(x, channels);
    for (int64_t c = 0; c < channels; ++c) step[c] = std::max(2.0f * mean_abs[c] / std::sqrt(r.qmax), 1e-8f);
  }
  step_.set_data(vector_tensor(step));
}

Variable LsqQuantizer::quantize(const Variable& x) {
  const IntegerRange r = range();
  const GridSpec grid{.step = step_.data().contiguous(),
                      .offset = learn_offset_ ? offset_.data().contiguous() : Tensor(),
                      .qmin = r.qmin,
                      .qmax = r.qmax};
  const int64_t channels = grid.step.numel(), inner = x.numel() / channels;
  // LSQ's gradient scale g = 1/sqrt(numel·Qp), numel of one channel for per-channel steps.
  const double grad_scale = 1.0 / std::sqrt(static_cast<double>(inner) * r.qmax);
  const bool learn_offset = learn_offset_;
  std::vector<Variable> scalars{step_};
  if (learn_offset) scalars.push_back(offset_);
  return grid_fake_quant(
      method(), x, grid, scalars, [r, channels, grad_scale, learn_offset](const auto& sums) {
        std::vector<double> d_step(channels), d_offset(channels);
        for (int64_t c = 0; c < channels; ++c) {
          d_step[c] = (sums.inside[c] + r.qmin * sums.below[c] + r.qmax * sums.above[c]) * grad_scale;
          d_offset[c] = (sums.below[c] + sums.above[c]) * grad_scale;
        }
        std::vector<Tensor> grads{vector_tensor(d_step)};
        if (learn_offset) grads.push_back(vector_tensor(d_offset));
        return grads;
      });
}

QuantGrid LsqQuantizer::grid() const {
  const IntegerRange r = range();
  QuantGrid g{.scale = step_.data().to_vector(),
              .offset = {},
              .qmin = static_cast<int64_t>(r.qmin),
              .qmax = static_cast<int64_t>(r.qmax),
              .bits = bits()};
  g.offset = learn_offset_ ? offset_.data().to_vector() : std::vector<float>(g.scale.size(), 0.0f);
  return g;
}

}  // namespace qat
