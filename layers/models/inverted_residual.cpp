#include "layers/models/inverted_residual.h"

#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace qat {
namespace {

// conv-BN-ReLU6 as one named Sequential ("conv", "bn", "act").
std::shared_ptr<Sequential> conv_bn_relu6(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                          int64_t groups) {
  auto block = std::make_shared<Sequential>();
  block->add("conv", std::make_shared<Conv2d>(Conv2dOptions{.in = in,
                                                            .out = out,
                                                            .kernel = kernel,
                                                            .stride = stride,
                                                            .padding = kernel / 2,
                                                            .groups = groups,
                                                            .bias = false}));
  block->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
  block->add("act", std::make_shared<Activation>(ActivationKind::relu6));
  return block;
}

}  // namespace

InvertedResidual::InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio)
    : expand_(expand_ratio != 1), residual_(stride == 1 && in == out) {
  QAT_CHECK(stride == 1 || stride == 2, "InvertedResidual: stride must be 1 or 2, got ", stride);
  const int64_t hidden = in * expand_ratio;
  if (expand_ratio != 1) register_module("expand", conv_bn_relu6(in, hidden, 1, 1, 1));
  register_module("depthwise", conv_bn_relu6(hidden, hidden, 3, stride, hidden));
  register_module("project", std::make_shared<Conv2d>(Conv2dOptions{
                                 .in = hidden, .out = out, .kernel = 1, .padding = 0, .bias = false}));
  register_module("project_bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
}

Variable InvertedResidual::forward(const Variable& x) {
  Variable y = expand_ ? call_child("expand", x) : x;
  y = call_child("project_bn", call_child("project", call_child("depthwise", y)));
  return residual_ ? add(x, y) : y;
}

}  // namespace qat
