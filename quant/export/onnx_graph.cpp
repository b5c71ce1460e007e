#include "quant/export/onnx_graph.h"

#include "engine/error.h"

namespace qat {
namespace {

// TensorProto.DataType values; INT4/UINT4 (ONNX 1.16, opset 21) are newer than Debian's onnx.proto.
constexpr int32_t kUint4 = 21, kInt4 = 22;

OnnxIntegerType integer_type(int bits, bool is_signed) {
  const int64_t half = int64_t{1} << (bits - 1);
  const int32_t type = bits == 4   ? (is_signed ? kInt4 : kUint4)
                       : bits == 8 ? (is_signed ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8)
                                   : (is_signed ? onnx::TensorProto::INT16 : onnx::TensorProto::UINT16);
  return is_signed ? OnnxIntegerType{type, bits, -half, half - 1}
                   : OnnxIntegerType{type, bits, 0, 2 * half - 1};
}

// Little-endian bytes of `values`: int4 two per byte (element 2i in the low nibble), else bits/8 each.
std::string pack(const std::vector<int64_t>& values, int bits) {
  std::string bytes;
  if (bits == 4) {
    bytes.assign((values.size() + 1) / 2, '\0');
    for (size_t i = 0; i < values.size(); ++i)
      bytes[i / 2] = static_cast<char>(bytes[i / 2] | (values[i] & 0xF) << (i % 2 == 0 ? 0 : 4));
    return bytes;
  }
  for (const int64_t v : values)
    for (int shift = 0; shift < bits; shift += 8) bytes.push_back(static_cast<char>((v >> shift) & 0xFF));
  return bytes;
}

}  // namespace

OnnxIntegerType onnx_integer_type(int64_t lo, int64_t hi, int min_bits, const std::string& what) {
  for (const int bits : {4, 8, 16}) {
    if (bits < min_bits) continue;
    const OnnxIntegerType type = integer_type(bits, lo < 0);
    if (type.lo <= lo && hi <= type.hi) return type;
  }
  detail::fail(what, ": integer range [", lo, ", ", hi, "] does not fit a 16-bit ONNX type");
}

onnx::NodeProto& OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                                 const std::string& output) {
  onnx::NodeProto& n = *graph_.add_node();
  n.set_op_type(op);
  n.set_name(output);
  for (const std::string& input : inputs) n.add_input(input);
  n.add_output(output);
  return n;
}

onnx::TensorProto& OnnxGraph::initializer(const std::string& name, const Shape& dims, int32_t data_type) {
  onnx::TensorProto& t = *graph_.add_initializer();
  t.set_name(name);
  t.set_data_type(data_type);
  for (const int64_t d : dims) t.add_dims(d);
  return t;
}

std::string OnnxGraph::floats(const std::string& name, const Shape& dims, const std::vector<float>& values) {
  QAT_CHECK(static_cast<int64_t>(values.size()) == numel(dims), "onnx export: ", name, " has ", values.size(),
            " values for shape ", to_string(dims));
  onnx::TensorProto& t = initializer(name, dims, onnx::TensorProto::FLOAT);
  t.mutable_float_data()->Add(values.begin(), values.end());
  return name;
}

std::string OnnxGraph::integers(const std::string& name, const Shape& dims,
                                const std::vector<int64_t>& values, const OnnxIntegerType& type) {
  QAT_CHECK(static_cast<int64_t>(values.size()) == numel(dims), "onnx export: ", name, " has ", values.size(),
            " values for shape ", to_string(dims));
  for (const int64_t v : values)
    QAT_CHECK(type.lo <= v && v <= type.hi, "onnx export: ", name, ": value ", v, " outside [", type.lo, ", ",
              type.hi, "]");
  initializer(name, dims, type.data_type).set_raw_data(pack(values, type.bits));
  return name;
}

std::string OnnxGraph::int64s(const std::string& name, const Shape& dims,
                              const std::vector<int64_t>& values) {
  QAT_CHECK(static_cast<int64_t>(values.size()) == numel(dims), "onnx export: ", name, " has ", values.size(),
            " values for shape ", to_string(dims));
  initializer(name, dims, onnx::TensorProto::INT64).mutable_int64_data()->Add(values.begin(), values.end());
  return name;
}

void set_attribute(onnx::NodeProto& node, const std::string& name, int64_t value) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
}

void set_attribute(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (const int64_t v : values) a.add_ints(v);
}

void set_attribute(onnx::NodeProto& node, const std::string& name, float value) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
}

}  // namespace qat
