#include "layers/models/basic_block.h"

#include "autograd/ops/activation.h"
#include "autograd/ops/arithmetic.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace qat {

BasicBlock::BasicBlock(int64_t in, int64_t out, int64_t stride) {
  register_module("conv1",
                  std::make_shared<Conv2d>(Conv2dOptions{
                      .in = in, .out = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false}));
  register_module("bn1",
                  std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out, .fuse_relu = true}));
  register_module("conv2",
                  std::make_shared<Conv2d>(Conv2dOptions{
                      .in = out, .out = out, .kernel = 3, .stride = 1, .padding = 1, .bias = false}));
  register_module("bn2", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
  auto shortcut = register_module("shortcut", std::make_shared<Sequential>());
  if (stride != 1 || in != out) {
    shortcut->add("conv",
                  std::make_shared<Conv2d>(Conv2dOptions{
                      .in = in, .out = out, .kernel = 1, .stride = stride, .padding = 0, .bias = false}));
    shortcut->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = out}));
  }
}

Variable BasicBlock::forward(const Variable& x) {
  const Variable y = call_child("bn2", call_child("conv2", call_child("bn1", call_child("conv1", x))));
  return relu(add(y, call_child("shortcut", x)));
}

}  // namespace qat
