#include "quant/quantizer.h"

#include <cmath>

#include "engine/error.h"

namespace qat {

Quantizer::Quantizer(const QuantizerOptions& options)
    : options_(options), initialized_(Tensor::full({1}, 0.0f)), signed_(Tensor::full({1}, 0.0f)) {
  QAT_CHECK(options.bits >= 1 && options.bits <= 16, "quantizer: bits ", options.bits, " outside 1..16");
  QAT_CHECK(!options.per_channel || options.target == QuantTarget::weight,
            "quantizer: per-channel scales are for weights only");
  register_buffer("initialized", initialized_);
  register_buffer("signed", signed_);
}

Variable Quantizer::forward(const Variable& x) {
  QAT_CHECK(x.data().dtype() == DType::f32, method(), " quantizer: expected an f32 input, got ", x.str());
  if (!initialized()) {
    const Tensor plain = x.data().contiguous();
    bool negative = false;
    const float* p = plain.data<float>();
    for (int64_t i = 0, n = plain.numel(); i < n && !negative; ++i) negative = p[i] < 0.0f;
    options_.is_signed = options_.is_signed.value_or(options_.target == QuantTarget::weight || negative);
    signed_.fill(*options_.is_signed ? 1.0f : 0.0f);
    initialize(plain);
    initialized_.fill(1.0f);
  } else {
    options_.is_signed = is_signed();
  }
  return quantize(x);
}

void Quantizer::set_initialized(bool is_signed) {
  options_.is_signed = is_signed;
  signed_.fill(is_signed ? 1.0f : 0.0f);
  initialized_.fill(1.0f);
}

Variable Quantizer::bits_variable() const { return Variable(Tensor::full({1}, static_cast<float>(bits()))); }

int64_t Quantizer::channels_of(const Tensor& x) const {
  QAT_CHECK(!options_.per_channel || (x.ndim() >= 1 && x.dim(0) == options_.channels), method(),
            " quantizer: per-channel input ", x.str(), " does not have ", options_.channels,
            " channels on axis 0");
  return options_.per_channel ? x.dim(0) : 1;
}

IntegerRange integer_range(int bits, bool is_signed) {
  const float half = std::ldexp(1.0f, bits - 1);
  return is_signed ? IntegerRange{-half, half - 1.0f} : IntegerRange{0.0f, 2.0f * half - 1.0f};
}

}  // namespace qat
