#include "quant/quantizers/nipq_quantizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/select.h"
#include "engine/error.h"
#include "engine/kernels/fake_quant.h"
#include "engine/random.h"
#include "quant/grid_fake_quant.h"
#include "quant/quant_tensor.h"

namespace qat {
namespace {

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double softplus_of(double v) { return v > 20.0 ? v : std::log1p(std::exp(v)); }

// The scalar chain θ → b → n and a → α, evaluated once per call.
struct NipqScalars {
  double sigma = 0;                 // sigmoid(θ)
  double bits = 0;                  // ⌊b_min + range·σ + u⌉
  double levels = 0;                // n(b)
  double levels_slope = 0;          // dn/db
  std::vector<float> alpha;         // softplus(a) per channel
  std::vector<double> alpha_slope;  // dα/da = sigmoid(a)
};

NipqScalars scalars(const Tensor& alpha_raw, float theta, const NipqSettings& s, float jitter) {
  NipqScalars out;
  out.sigma = sigmoid_of(theta);
  out.bits = std::nearbyint(s.bits_min + (s.bits_max - s.bits_min) * out.sigma + jitter);
  const double top = std::exp2(s.is_signed ? out.bits - 1 : out.bits);
  out.levels = top - 1.0;
  out.levels_slope = std::numbers::ln2 * top;
  for (float a : alpha_raw.to_vector()) {
    out.alpha.push_back(static_cast<float>(softplus_of(a)));
    out.alpha_slope.push_back(sigmoid_of(a));
  }
  return out;
}

Variable rounding_path(const Variable& x, const Variable& alpha_raw, const Variable& theta,
                       const NipqScalars& k, const NipqSettings& s) {
  const auto channels = static_cast<int64_t>(k.alpha.size());
  std::vector<double> step(channels);
  for (int64_t c = 0; c < channels; ++c) step[c] = k.alpha[c] / k.levels;
  const float n = static_cast<float>(k.levels), lo = s.is_signed ? -n : 0.0f;
  return grid_fake_quant("nipq", x, {.step = vector_tensor(step), .offset = {}, .qmin = lo, .qmax = n},
                         {alpha_raw, theta}, [k, lo, n, channels](const auto& sums) -> std::vector<Tensor> {
                           // y = ⌊clip(x/α, lo, 1)·n⌉·α/n: LSQ's step gradient divided by n, then through
                           // softplus.
                           std::vector<double> d_alpha_raw(channels);
                           for (int64_t c = 0; c < channels; ++c)
                             d_alpha_raw[c] = (sums.inside[c] + lo * sums.below[c] + n * sums.above[c]) / n *
                                              k.alpha_slope[c];
                           return {vector_tensor(d_alpha_raw), Tensor::zeros({1})};
                         });
}

// The kernel's view of one draw; it points into `k` and `given`, so each user builds it from its own copies.
kernels::NoiseProxy noise_proxy(const NipqScalars& k, const NipqSettings& s, uint64_t key,
                                const Tensor& given) {
  return {.alpha = k.alpha.data(),
          .levels = static_cast<float>(k.levels),
          .is_signed = s.is_signed,
          .histogram = s.histogram,
          .key = key,
          .given_noise = given.defined() ? given.data<float>() : nullptr};
}

Variable noise_path(const Variable& x, const Variable& alpha_raw, const Variable& theta, const NipqScalars& k,
                    const NipqSettings& s, const NipqDraws& draws) {
  const Tensor given = draws.noise.defined() ? draws.noise.contiguous() : Tensor();
  const Tensor in = given.defined() ? x.data().contiguous() : dense_for_kernel(x.data(), k.alpha.size() > 1);
  QAT_CHECK(!given.defined() || given.shape() == in.shape(), "nipq: noise ", given.str(),
            " does not match input ", in.str());
  const int64_t channels = static_cast<int64_t>(k.alpha.size()), inner = in.numel() / channels;
  Tensor out = empty_like(in);
  kernels::noise_proxy_forward(raw_floats(in), raw_floats(out), channels, inner,
                               noise_proxy(k, s, draws.key, given));
  const float lo = s.is_signed ? -1.0f : 0.0f, range = s.bits_max - s.bits_min;
  // The backward reads ε back from the output, which the consuming layer keeps alive anyway.
  auto backward = [in, y = out, k, s, lo, range, channels, inner](const Tensor& g) -> std::vector<Tensor> {
    const Tensor grad = g.to_layout(in.desc());
    Tensor dx = empty_like(in);
    const kernels::NoiseGradSums sums =
        kernels::noise_proxy_backward(raw_floats(in), raw_floats(y), raw_floats(grad), raw_floats(dx),
                                      channels, inner, noise_proxy(k, s, 0, Tensor()));
    // Inside, y = x + ε·α/n(b): ∂y/∂α = ε/n, ∂y/∂b = −ε·α·n'(b)/n²; truncated elements are ±α.
    std::vector<double> d_alpha_raw(channels);
    double d_bits = 0;
    for (int64_t c = 0; c < channels; ++c) {
      d_alpha_raw[c] = (sums.over[c] + lo * sums.under[c] + sums.noise[c] / k.levels) * k.alpha_slope[c];
      d_bits -= sums.noise[c] * k.alpha[c] * k.levels_slope / (k.levels * k.levels);
    }
    // b = ⌊b_min + range·σ(θ) + u⌉ with straight-through rounding.
    const double d_theta = d_bits * range * k.sigma * (1.0 - k.sigma);
    return {dx, vector_tensor(d_alpha_raw), vector_tensor({d_theta})};
  };
  return Variable::record("nipq_noise", std::move(out), {x, alpha_raw, theta}, std::move(backward));
}

}  // namespace

Variable nipq_quantize(const Variable& x, const Variable& alpha_raw, const Variable& theta,
                       const NipqSettings& settings, const NipqDraws& draws) {
  QAT_CHECK(x.data().dtype() == DType::f32, "nipq: expected an f32 input, got ", x.str());
  QAT_CHECK(theta.numel() == 1, "nipq: θ must have one element, got ", theta.str());
  const int64_t channels = alpha_raw.numel();
  QAT_CHECK(channels == 1 || (x.ndim() >= 1 && x.dim(0) == channels), "nipq: truncation ", alpha_raw.str(),
            " does not match input ", x.str());
  const NipqScalars k =
      scalars(alpha_raw.data(), theta.data().item(), settings, settings.noise ? draws.jitter : 0);
  return settings.noise ? noise_path(x, alpha_raw, theta, k, settings, draws)
                        : rounding_path(x, alpha_raw, theta, k, settings);
}

float nipq_theta_for_bits(float bits, float bits_min, float bits_max) {
  QAT_CHECK(bits >= bits_min && bits <= bits_max, "nipq: bits ", bits, " outside the range ", bits_min, "..",
            bits_max);
  const double inside = bits < bits_max ? 1e-5 : -1e-5;
  const double p = (bits - bits_min + inside) / (bits_max - bits_min);
  return static_cast<float>(std::log(p / (1.0 - p)));
}

NipqQuantizer::NipqQuantizer(const QuantizerOptions& options) : Quantizer(options) {
  alpha_raw_ = register_parameter("alpha_raw", Tensor::full(scalar_shape(), 1.0f));
  theta_ =
      register_parameter("theta", Tensor::full({1}, nipq_theta_for_bits(static_cast<float>(options.bits),
                                                                        options.bits_min, options.bits_max)));
  theta_.set_requires_grad(options.learn_bits);
}

void NipqQuantizer::freeze_bits(int bits) {
  if (!options().learn_bits) return;
  const auto b = static_cast<float>(bits);
  theta_.set_data(Tensor::full({1}, nipq_theta_for_bits(b, options().bits_min, options().bits_max)));
  theta_.set_requires_grad(false);
}

NipqSettings NipqQuantizer::settings(bool noise) const {
  return {.is_signed = is_signed(),
          .noise = noise,
          .histogram = options().histogram_noise,
          .bits_min = options().bits_min,
          .bits_max = options().bits_max};
}

int NipqQuantizer::bits() const {
  const NipqScalars k = scalars(alpha_raw_.data(), theta_.data().item(), settings(false), 0.0f);
  return static_cast<int>(k.bits);
}

double NipqQuantizer::learned_bits() const {
  return options().bits_min + (options().bits_max - options().bits_min) * sigmoid_of(theta_.data().item());
}

Variable NipqQuantizer::bits_variable() const {
  const float range = options().bits_max - options().bits_min;
  return round_ste(affine(sigmoid(theta_), range, options().bits_min));
}

void NipqQuantizer::initialize(const Tensor& x) {
  const int64_t channels = channels_of(x);
  std::vector<float> alpha;
  if (options().calibrated_init) {
    // The truncation with the least quantization error at the initial bit-width, from the weight or the
    // first batch; then a = softplus⁻¹(α) so that α is exactly that value.
    const double top = std::exp2(is_signed() ? options().bits - 1 : options().bits);
    alpha = mse_truncation(x, channels, static_cast<float>(top - 1.0), is_signed());
    for (float& a : alpha) a = static_cast<float>(std::log(std::expm1(std::max(a, 1e-4f))));
  } else if (options().target == QuantTarget::weight) {
    alpha = channel_max(x, channels);  // the reference's raw init: a = max(w), α = softplus(max(w))
  } else {
    alpha = {is_signed() ? 3.0f : 6.0f};
  }
  alpha_raw_.set_data(vector_tensor(std::vector<double>(alpha.begin(), alpha.end())));
}

Variable NipqQuantizer::quantize(const Variable& x) {
  const bool noise = is_training() && phase_ == QuantPhase::noise;
  NipqDraws draws;
  if (noise) {
    draws.key = global_generator().next();
    if (theta_.requires_grad()) draws.jitter = global_generator().uniform(-0.5f, 0.5f);
  }
  return nipq_quantize(x, alpha_raw_, theta_, settings(noise), draws);
}

QuantGrid NipqQuantizer::grid() const {
  const NipqScalars k = scalars(alpha_raw_.data(), theta_.data().item(), settings(false), 0.0f);
  QuantGrid g{.scale = {},
              .offset = std::vector<float>(k.alpha.size(), 0.0f),
              .qmin = is_signed() ? -static_cast<int64_t>(k.levels) : 0,
              .qmax = static_cast<int64_t>(k.levels),
              .bits = static_cast<int>(k.bits)};
  for (float a : k.alpha) g.scale.push_back(static_cast<float>(a / k.levels));
  return g;
}

}  // namespace qat
