#pragma once
// ONNX export of a quantized CNN or BERT classifier as a QDQ graph (opset 21) that ONNX Runtime runs on
// the integer grids the model is evaluated with: weights as integer codes (int4/int8) + DequantizeLinear
// with per-channel scales, quantized layer inputs as QuantizeLinear→DequantizeLinear, batch norm folded
// into the convolutions, the input normalization inside the graph. Post-training records keep their codes
// too: groups as a blocked DequantizeLinear, BAQ's column levels as block size 1, and the transforms,
// column scales and a batch norm after an output transform as MatMul / Mul on the dequantized weight.
// Everything else stays float.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/models/bert.h"
#include "layers/module.h"
#include "quant/export/onnx.pb.h"

namespace qat {

/// The graph's input: float pixels in [0, 1], [N, channels, height, width] with a dynamic N.
struct OnnxExportOptions {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  std::vector<float> mean;  ///< normalization (x − mean[c]) / std[c]; one value = every channel; empty = 0
  std::vector<float> stddev;  ///< empty = 1
  std::string name = "qat";   ///< graph name
};

/// The model as ONNX (ir_version 10, opset 21); the first output, "logits", is the model's output.
/// Walks Sequential, BasicBlock, InvertedResidual, Conv2d (grouped too) / Linear (plain or in a
/// QuantizedLayer, with a following BatchNorm2d folded in), ReLU/ReLU6 activations, global average
/// pooling, Flatten, Dropout and Identity; other modules, grids without an integer zero point and
/// uninitialized quantizers are errors naming the layer. A Bert is exported as export_onnx(Bert&,
/// options.name). Switches `model` to evaluation mode.
onnx::ModelProto export_onnx(Module& model, const OnnxExportOptions& options);

/// A BERT classifier (BertHead::classify) as ONNX (ir_version 10, opset 21): inputs "input_ids" and
/// "attention_mask", int64 [N, L] with dynamic N and L ≤ max_len (mask nonzero for tokens, 0 for
/// padding), output "logits" [N, classes] from the first token. Quantized linear layers (MatMul, or Gemm
/// for the head) and quantized attention inputs get Q/DQ as in export_onnx; embeddings, LayerNorm,
/// softmax and GELU stay float. Switches `model` to evaluation mode.
onnx::ModelProto export_onnx(Bert& model, const std::string& name);

/// Serializes `model` to `path` atomically; returns the number of bytes written.
int64_t save_onnx(const onnx::ModelProto& model, const std::string& path);

}  // namespace qat
