// Misuse errors name the quantizer (or op) and the shapes involved, so a failing layer is identifiable.
#include <gtest/gtest.h>

#include "quant/quant_method.h"
#include "quant/quantizers/dorefa_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "quant/quantizers/pact_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

#define EXPECT_MESSAGE_HAS(message, part)            \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "message: '" << (message) << "' lacks '" << (part) << "'"

QuantizerOptions per_channel_weights(int64_t channels) {
  return {.per_channel = true, .channels = channels, .is_signed = std::nullopt};
}

TEST(QuantizerErrors, WrongDtypeNamesQuantizerAndShape) {
  const Variable bytes(Tensor::zeros({2, 3}, DType::s8));
  for (const std::string& method : test::method_names())
    for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
      const auto q = make_quantizer(method, {.target = target, .is_signed = std::nullopt});
      const std::string message = test::error_of([&] { q->forward(bytes); });
      EXPECT_MESSAGE_HAS(message, std::string(q->method()) + " quantizer");
      EXPECT_MESSAGE_HAS(message, "[2, 3] s8");
      EXPECT_FALSE(q->initialized()) << method;
    }
  const std::string dorefa = test::error_of([&] { dorefa_weight(bytes, 4); });
  EXPECT_MESSAGE_HAS(dorefa, "dorefa");
  EXPECT_MESSAGE_HAS(dorefa, "[2, 3] s8");
  const Variable one(Tensor::zeros({1}));
  const std::string nipq = test::error_of([&] { nipq_quantize(bytes, one, one, {}); });
  EXPECT_MESSAGE_HAS(nipq, "nipq");
  EXPECT_MESSAGE_HAS(nipq, "[2, 3] s8");
}

TEST(QuantizerErrors, PerChannelCountMismatchNamesQuantizerAndShapes) {
  const Variable three_rows(Tensor::zeros({3, 5})), four_rows(Tensor::full({4, 5}, 0.5f));
  for (const QuantMethod& row : quant_methods()) {
    if (!row.per_channel_weights || !is_quantization_aware(row)) continue;
    const std::string method = row.name;
    // At initialization…
    const auto q = make_quantizer(method, per_channel_weights(4));
    std::string message = test::error_of([&] { q->forward(three_rows); });
    EXPECT_MESSAGE_HAS(message, q->method());
    EXPECT_MESSAGE_HAS(message, "[3, 5] f32");
    EXPECT_MESSAGE_HAS(message, "4 channels");
    // …and after it.
    q->forward(four_rows);
    message = test::error_of([&] { q->forward(three_rows); });
    EXPECT_MESSAGE_HAS(message, q->method());
    EXPECT_MESSAGE_HAS(message, "[3, 5] f32");
  }
  const Variable alpha4(Tensor::zeros({4})), theta(Tensor::zeros({1}));
  const std::string op = test::error_of([&] { nipq_quantize(three_rows, alpha4, theta, {}); });
  EXPECT_MESSAGE_HAS(op, "nipq");
  EXPECT_MESSAGE_HAS(op, "[4] f32");
  EXPECT_MESSAGE_HAS(op, "[3, 5] f32");
}

TEST(QuantizerErrors, BadOptionsAndArguments) {
  const Variable x(Tensor::zeros({3, 5})), one(Tensor::zeros({1}));
  EXPECT_MESSAGE_HAS(test::error_of([] { make_quantizer("dorefa", per_channel_weights(4)); }), "dorefa");
  EXPECT_MESSAGE_HAS(
      test::error_of([] { PactQuantizer({.target = QuantTarget::weight, .is_signed = std::nullopt}); }),
      "pact");
  EXPECT_MESSAGE_HAS(test::error_of([] {
                       make_quantizer("nipq", {.target = QuantTarget::activation,
                                               .per_channel = true,
                                               .channels = 2,
                                               .is_signed = std::nullopt});
                     }),
                     "per-channel");
  EXPECT_MESSAGE_HAS(test::error_of([] { make_quantizer("lsq", {.bits = 17, .is_signed = std::nullopt}); }),
                     "17");
  const std::string unknown = test::error_of([] { make_quantizer("lsqq", {}); });
  EXPECT_MESSAGE_HAS(unknown, "'lsqq'");
  for (const std::string& method : test::method_names()) EXPECT_MESSAGE_HAS(unknown, method);
  const std::string noise = test::error_of([&] {
    nipq_quantize(x, one, one, {.noise = true}, {.key = 0, .jitter = 0.0f, .noise = Tensor::zeros({4})});
  });
  EXPECT_MESSAGE_HAS(noise, "nipq");
  EXPECT_MESSAGE_HAS(noise, "[4] f32");
  EXPECT_MESSAGE_HAS(noise, "[3, 5] f32");
  const std::string theta = test::error_of([&] { nipq_quantize(x, one, Variable(Tensor::zeros({2})), {}); });
  EXPECT_MESSAGE_HAS(theta, "nipq");
  EXPECT_MESSAGE_HAS(theta, "[2] f32");
}

}  // namespace
}  // namespace qat
