#include "quant/quantizers/lsq_quantizer.h"

#include <cmath>

#include "engine/kernels/fake_quant.h"
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
  const bool per_channel = options().per_channel;
  const Tensor in = dense_for_kernel(x.data(), per_channel);
  const int64_t channels = channels_of(in), inner = in.numel() / channels;
  const IntegerRange r = range();
  const Tensor step = step_.data().contiguous();
  const Tensor offset = learn_offset_ ? offset_.data().contiguous() : Tensor();
  const kernels::UniformGrid grid{.scale = step.data<float>(),
                                  .offset = learn_offset_ ? offset.data<float>() : nullptr,
                                  .qmin = r.qmin,
                                  .qmax = r.qmax};
  Tensor out = empty_like(in);
  kernels::fake_quant_forward(raw_floats(in), raw_floats(out), channels, inner, grid);
  // LSQ's gradient scale g = 1/sqrt(numel·Qp), numel of one channel for per-channel steps.
  const double grad_scale = 1.0 / std::sqrt(static_cast<double>(inner) * r.qmax);
  std::vector<Variable> inputs{x, step_};
  if (learn_offset_) inputs.push_back(offset_);
  return Variable::record(
      method(), std::move(out), inputs,
      [in, step, offset, r, channels, inner, grad_scale](const Tensor& g) -> std::vector<Tensor> {
        const Tensor grad = g.to_layout(in.desc());
        Tensor dx = empty_like(in);
        const kernels::UniformGrid grid{.scale = step.data<float>(),
                                        .offset = offset.defined() ? offset.data<float>() : nullptr,
                                        .qmin = r.qmin,
                                        .qmax = r.qmax};
        const kernels::GridGradSums sums = kernels::fake_quant_backward(
            raw_floats(in), raw_floats(grad), raw_floats(dx), channels, inner, grid);
        std::vector<double> d_step(channels), d_offset(channels);
        for (int64_t c = 0; c < channels; ++c) {
          d_step[c] = (sums.inside[c] + r.qmin * sums.below[c] + r.qmax * sums.above[c]) * grad_scale;
          d_offset[c] = (sums.below[c] + sums.above[c]) * grad_scale;
        }
        std::vector<Tensor> grads{dx, vector_tensor(d_step)};
        if (offset.defined()) grads.push_back(vector_tensor(d_offset));
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
