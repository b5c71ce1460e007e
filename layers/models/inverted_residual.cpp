#include "layers/models/inverted_residual.h"

#include <memory>

#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"

namespace qat {

std::shared_ptr<Sequential> conv_bn_relu6(const Conv2dOptions& conv) {
  auto unit = std::make_shared<Sequential>();
  unit->add("conv", std::make_shared<Conv2d>(conv));
  unit->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = conv.out}));
  unit->add("act", std::make_shared<Activation>(ActivationKind::relu6));
  return unit;
}

InvertedResidual::InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio)
    : residual_(stride == 1 && in == out) {
  QAT_CHECK(in > 0 && out > 0 && expand_ratio > 0 && (stride == 1 || stride == 2), "InvertedResidual: in ",
            in, ", out ", out, " and expand ratio ", expand_ratio, " must be positive and stride ", stride,
            " 1 or 2");
  const int64_t hidden = in * expand_ratio;
  if (expand_ratio != 1)
    register_module("expand", conv_bn_relu6({.in = in, .out = hidden, .kernel = 1, .bias = false}));
  register_module("dw", conv_bn_relu6({.in = hidden,
                                       .out = hidden,
                                       .kernel = 3,
                                       .stride = stride,
                                       .padding = 1,
                                       .groups = hidden,
                                       .bias = false}));
  register_module("project", std::make_shared<Conv2d>(
                                 Conv2dOptions{.in = hidden, .out = out, .kernel = 1, .bias = false}));
  register_module("project_bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
}

Variable InvertedResidual::forward(const Variable& x) {
  // children() holds the current modules, so a decorator put in a child's place takes effect.
  Variable y = x;
  for (const auto& [name, child] : children()) y = child->forward(y);
  return residual_ ? add(x, y) : y;
}

}  // namespace qat
