#pragma once
// Quantizer: a module whose forward fake-quantizes its input; it owns its learnable scalars, initializes
// them from the first tensor it sees, and describes its integer grid for export.
#include <optional>
#include <vector>

#include "layers/module.h"
#include "quant/ptq/record_layout.h"

namespace qat {

/// What a quantizer is applied to.
enum class QuantTarget { weight, activation };

/// Training behaviour: NIPQ's noise proxy, or the real quantizer with straight-through rounding.
enum class QuantPhase { noise, ste };

/// Construction options shared by every quantizer.
struct QuantizerOptions {
  QuantTarget target = QuantTarget::weight;
  int bits = 4;                   ///< integer bit-width (the initial one when bits are learned)
  bool per_channel = false;       ///< weights: one scale per output channel (axis 0)
  int64_t channels = 1;           ///< output channels of a per-channel weight
  std::optional<bool> is_signed;  ///< unset: weights signed, activations decided by the first batch
  bool learn_bits = false;        ///< NIPQ: the bit-width is a trained parameter
  float bits_min = 2.0f;          ///< NIPQ: learned bit-width range
  float bits_max = 8.0f;          ///< NIPQ: learned bit-width range
  bool histogram_noise = true;    ///< NIPQ: noise from the rounding-error histogram (else uniform)
  bool calibrated_init = false;   ///< NIPQ: truncation from the data instead of the paper's raw values
  std::optional<ptq::RecordLayout> record;  ///< post-training weights: the record quantizer's buffer shapes
};

/// Evaluation output = code·scale[c] + offset[c] with integer code in [qmin, qmax], per channel c.
struct QuantGrid {
  std::vector<float> scale;   ///< step per channel (one entry per tensor when not per-channel)
  std::vector<float> offset;  ///< real offset per channel (zeros for symmetric grids)
  int64_t qmin = 0;           ///< lowest code
  int64_t qmax = 0;           ///< highest code
  int bits = 0;               ///< bits of the code
};

/// Base of every quantizer; forward(x) initializes on first use, then quantizes.
class Quantizer : public Module {
 public:
  explicit Quantizer(const QuantizerOptions& options);
  Variable forward(const Variable& x) override;
  /// The options it was built with (bits and signedness as currently in use).
  const QuantizerOptions& options() const { return options_; }
  /// Switches between the noise proxy and the real quantizer (only NIPQ has a noise phase).
  virtual void set_phase(QuantPhase) {}
  /// Stops learning the bit-width and fixes it at `bits` (a no-op when the bit-width is not learned).
  virtual void freeze_bits(int /*bits*/) {}
  /// Integer bit-width in use now.
  virtual int bits() const { return options_.bits; }
  /// The bit-width before rounding (bits() when it is not learned).
  virtual double learned_bits() const { return bits(); }
  /// The bit-width as a scalar variable, with a gradient when it is learned (cost losses).
  virtual Variable bits_variable() const;
  /// The integer grid of the evaluation output; requires an initialized quantizer.
  virtual QuantGrid grid() const = 0;
  /// True once the scalars were initialized from data (or loaded from a checkpoint).
  bool initialized() const { return initialized_.item() != 0.0f; }
  /// Whether the grid has negative codes.
  bool is_signed() const { return signed_.item() != 0.0f; }
  /// Method name ("nipq", "lsq", ...).
  virtual const char* method() const = 0;

 protected:
  /// Sets the learnable scalars from the first input.
  virtual void initialize(const Tensor& x) = 0;
  /// The quantized input.
  virtual Variable quantize(const Variable& x) = 0;
  /// Output channels of `x` as seen by this quantizer (1 unless per-channel); checks x against options.
  int64_t channels_of(const Tensor& x) const;
  /// Shape of a per-channel scalar parameter: [channels] or [1].
  Shape scalar_shape() const { return {options_.per_channel ? options_.channels : 1}; }
  /// Marks the quantizer initialized without data, its grid signed or not (a record set from outside).
  void set_initialized(bool is_signed);

 private:
  QuantizerOptions options_;
  Tensor initialized_;
  Tensor signed_;
};

/// Signed grid −2^(b−1)…2^(b−1)−1 (LSQ's two's complement) or unsigned 0…2^b−1.
struct IntegerRange {
  float qmin;  ///< lowest code
  float qmax;  ///< highest code
};
/// The full integer range of `bits`.
IntegerRange integer_range(int bits, bool is_signed);

}  // namespace qat
