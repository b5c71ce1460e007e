#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "layers/linear.h"
#include "quant/quantized_layer.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat {
namespace {

TEST(PtqLayerTap, SeesInputAndOutputInEvaluationModeOnly) {
  QuantizedLayer layer(std::make_shared<Linear>(LinearOptions{.in = 4, .out = 3}), nullptr, nullptr);
  const Eigen::MatrixXd g = test::gaussian(8, 1, 1);
  const Tensor x = Tensor::from_vector({2, 4}, std::vector<float>(g.data(), g.data() + 8));
  int calls = 0;
  std::vector<float> seen_in, seen_out;
  layer.set_tap([&](const Tensor& in, const Tensor& out) {
    ++calls;
    seen_in = in.to_vector(), seen_out = out.to_vector();
  });
  NoGrad no_grad;
  layer.train();
  layer.forward(Variable(x));
  EXPECT_EQ(calls, 0);
  layer.eval();
  const Tensor y = layer.forward(Variable(x)).data();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen_in, x.to_vector());
  EXPECT_EQ(seen_out, y.to_vector());
  layer.set_tap({});
  layer.forward(Variable(x));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace qat
