#pragma once
// OnnxGraph: appends nodes and initializers to an ONNX GraphProto; integer initializers go into the
// narrowest Q/DQ element type that holds them (int4/uint4 packed two per byte, int8/uint8, int16/uint16).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/shape.h"
#include "quant/export/onnx.pb.h"

namespace qat {

/// An integer element type of ONNX QuantizeLinear/DequantizeLinear tensors.
struct OnnxIntegerType {
  int32_t data_type = 0;  ///< onnx::TensorProto::DataType value (INT4 = 22 and UINT4 = 21 from opset 21)
  int bits = 0;
  int64_t lo = 0;  ///< lowest representable value
  int64_t hi = 0;  ///< highest representable value
};

/// The narrowest type of at least `min_bits` bits (4, 8 or 16) holding [lo, hi]; signed when lo < 0.
/// Errors name `what` when no type is wide enough.
OnnxIntegerType onnx_integer_type(int64_t lo, int64_t hi, int min_bits, const std::string& what);

/// Builds one graph; every added name must be unique (callers derive them from module paths).
class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}
  /// Appends node `op`(inputs) with the single output `output` (also its name); add attributes to it.
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& output);
  /// Adds a float initializer; returns its name.
  std::string floats(const std::string& name, const Shape& dims, const std::vector<float>& values);
  /// Adds an integer initializer of `type` (int4 values packed two per byte, low nibble first).
  std::string integers(const std::string& name, const Shape& dims, const std::vector<int64_t>& values,
                       const OnnxIntegerType& type);
  /// Adds an int64 initializer (shapes, axes, indices); returns its name.
  std::string int64s(const std::string& name, const Shape& dims, const std::vector<int64_t>& values);

 private:
  onnx::TensorProto& initializer(const std::string& name, const Shape& dims, int32_t data_type);
  onnx::GraphProto& graph_;
};

/// Sets an integer attribute.
void set_attribute(onnx::NodeProto& node, const std::string& name, int64_t value);
/// Sets an integer-list attribute.
void set_attribute(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values);
/// Sets a float attribute.
void set_attribute(onnx::NodeProto& node, const std::string& name, float value);

}  // namespace qat
