#pragma once
// Context: the process-wide oneDNN CPU engine and stream, and the precision convolutions and matmuls
// compute in.
#include <oneapi/dnnl/dnnl.hpp>

namespace qat {

/// What convolution and matmul primitives take as inputs: f32, or bf16 converted from the f32 tensors
/// (outputs and gradients stay f32, so master weights, optimizers and quantizers never see bf16).
enum class Precision { f32, bf16 };

/// The oneDNN engine and in-order stream every kernel runs on.
class Context {
 public:
  /// The process-wide context (created on first use).
  static Context& get();
  /// The CPU engine.
  const dnnl::engine& engine() const { return engine_; }
  /// The stream kernels execute on.
  dnnl::stream& stream() { return stream_; }
  /// The precision convolutions and matmuls compute in (f32 until set).
  Precision precision() const { return precision_; }
  /// Sets it; bf16 needs a CPU with AVX512-BF16 (throws otherwise).
  void set_precision(Precision precision);
  /// Puts back a precision that set_precision accepted before (PrecisionScope's destructor; cannot throw).
  void restore_precision(Precision previous) noexcept { precision_ = previous; }
  /// True when this CPU runs oneDNN's native bf16 kernels (AVX512-BF16).
  static bool bf16_supported();

 private:
  Context();
  dnnl::engine engine_;
  dnnl::stream stream_;
  Precision precision_ = Precision::f32;
};

/// Sets the context's precision for its lifetime and restores the previous one after.
class PrecisionScope {
 public:
  /// Switches to `precision`.
  explicit PrecisionScope(Precision precision);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision previous_;
};

}  // namespace qat
