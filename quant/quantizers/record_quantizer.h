#pragma once
// RecordQuantizer (`record`): the weight quantizer of every post-training method (PTQ.md, "Command and
// config"). It keeps a layer's quantized-weight record as buffers shaped by its RecordLayout, so that a
// checkpoint loads into a freshly built model, and gives dequantize(record) as the weight.
#include "quant/export/quantized_weight.h"
#include "quant/quantizer.h"

namespace qat {

/// Buffers "codes", "grid" (qmin, qmax, bits, code stride) and, as the layout has them, "scale" and
/// "zero_point", "levels", "row_lo" and "row_hi", "col_scale", "transforms" (kind and seed of V and U).
class RecordQuantizer : public Quantizer {
 public:
  /// A weight quantizer with `options.record` (required) for the buffer shapes.
  explicit RecordQuantizer(const QuantizerOptions& options);
  /// The float weight until a record is set (calibration reads it), then dequantize(record), a constant.
  Variable forward(const Variable& x) override;
  /// Keeps `record` (its bias aside); errors when it does not have the layout's fields and sizes.
  void set_record(const QuantizedWeight& record);
  /// The record kept (no bias); errors before set_record or a checkpoint's values.
  QuantizedWeight record() const;
  /// The grid of a per-row (or per-tensor) record; other records name the field a per-row grid lacks.
  QuantGrid grid() const override;
  const char* method() const override { return "record"; }

 protected:
  /// Never fitted to data: fails (forward passes the float weight until a record is set).
  void initialize(const Tensor& x) override;
  /// dequantize(record) in the weight's shape.
  Variable quantize(const Variable& x) override;

 private:
  ptq::RecordLayout layout_;
  Tensor codes_, grid_, scale_, zero_point_, levels_, row_lo_, row_hi_, col_scale_, transforms_;
};

}  // namespace qat
