#pragma once
// NIPQ (Shin et al., CVPR 2023): a learned truncation α = softplus(a) and bit-width
// b = b_min + (b_max − b_min)·sigmoid(θ); training adds noise drawn from the tensor's own rounding-error
// histogram instead of rounding, evaluation (and the final phase) rounds with STE. See METHODS.md.
#include "quant/quantizer.h"

namespace qat {

/// Fixed settings of one NIPQ evaluation.
struct NipqSettings {
  bool is_signed = true;   ///< grid −n…n with n = 2^(b−1) − 1, else 0…n with n = 2^b − 1
  bool noise = false;      ///< the noise proxy (training) instead of the rounding quantizer
  bool histogram = true;   ///< noise from the rounding-error histogram, else U(−0.5, 0.5)
  float bits_min = 2.0f;   ///< bit-width range of θ's sigmoid
  float bits_max = 14.0f;  ///< bit-width range of θ's sigmoid
};

/// The random draws of one noise-mode evaluation.
struct NipqDraws {
  uint64_t key = 0;     ///< key of the per-element noise
  float jitter = 0.0f;  ///< bit-width jitter u ~ U(−0.5, 0.5) added before discretizing
  Tensor noise;         ///< ε per element instead of sampling (tests), or undefined
};

/// NIPQ as one op on x, the raw truncation a ([1] or [channels of x's axis 0]) and θ ([1]).
Variable nipq_quantize(const Variable& x, const Variable& alpha_raw, const Variable& theta,
                       const NipqSettings& settings, const NipqDraws& draws = {});

/// θ whose bit-width is `bits` (1e-5 inside the range so that the rounded width is exactly `bits`).
float nipq_theta_for_bits(float bits, float bits_min, float bits_max);

/// The quantizer: parameters "alpha_raw" and "theta".
class NipqQuantizer : public Quantizer {
 public:
  explicit NipqQuantizer(const QuantizerOptions& options);
  void set_phase(QuantPhase phase) override { phase_ = phase; }
  void freeze_bits(int bits) override;
  int bits() const override;
  double learned_bits() const override;
  Variable bits_variable() const override;
  QuantGrid grid() const override;
  const char* method() const override { return "nipq"; }

 protected:
  void initialize(const Tensor& x) override;
  Variable quantize(const Variable& x) override;

 private:
  NipqSettings settings(bool noise) const;
  QuantPhase phase_ = QuantPhase::noise;
  Variable alpha_raw_;
  Variable theta_;
};

}  // namespace qat
