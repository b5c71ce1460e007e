// Activations reach the quantizers in oneDNN's blocked layouts (after a convolution) and the fused kernels
// run over the raw buffer, so results must not depend on the layout: the output and every gradient for a
// blocked input (nChw16c: unpadded with 16 channels, padded with 3) equal those for the plain input.
#include <gtest/gtest.h>

#include "engine/random.h"
#include "quant/quant_method.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

Tensor blocked(const Tensor& plain) {
  const Shape& s = plain.shape();
  const dnnl::memory::desc desc(dnnl::memory::dims(s.begin(), s.end()), dnnl::memory::data_type::f32,
                                dnnl::memory::format_tag::nChw16c);
  return plain.to_layout(desc);
}

// Output, input gradient and parameter gradients, all in plain order.
std::vector<std::vector<float>> run(const std::string& method, const QuantizerOptions& options,
                                    const Tensor& x, const Tensor& g, bool training) {
  manual_seed(3);
  const auto q = make_quantizer(method, options);
  q->set_phase(QuantPhase::ste);
  const Variable xv(x, true);
  q->forward(xv);  // initializes from the (possibly blocked) first batch
  q->train(training);
  const Variable y = q->forward(xv);
  y.backward(g);
  std::vector<std::vector<float>> out{y.data().to_vector(), xv.grad().to_vector()};
  for (const auto& [name, p] : q->named_parameters())
    if (p.grad().defined()) out.push_back(p.grad().to_vector());
  return out;
}

TEST(QuantizerLayout, BlockedInputGivesPlainResults) {
  for (int64_t channels : {16, 3}) {
    Generator gen(channels);
    const Tensor x = gen.normal_tensor({2, channels, 3, 3}), g = gen.normal_tensor({2, channels, 3, 3});
    ASSERT_FALSE(blocked(x).is_plain());
    for (const std::string& method : test::method_names())
      for (QuantTarget target : {QuantTarget::activation, QuantTarget::weight})
        for (bool training : {true, false}) {
          const QuantizerOptions options{.target = target, .bits = 3, .is_signed = std::nullopt};
          const auto plain = run(method, options, x, g, training);
          const auto other = run(method, options, blocked(x), blocked(g), training);
          ASSERT_EQ(plain.size(), other.size()) << method;
          for (size_t i = 0; i < plain.size(); ++i)
            for (size_t j = 0; j < plain[i].size(); ++j)
              ASSERT_NEAR(plain[i][j], other[i][j], 1e-5 * (1 + std::abs(plain[i][j])))
                  << method << (target == QuantTarget::weight ? " weight" : " activation")
                  << (training ? " train" : " eval") << ", " << channels << " channels, result " << i
                  << " element " << j;
        }
  }
}

TEST(QuantizerLayout, NipqNoiseWithGivenDrawsIgnoresLayout) {
  Generator gen(5);
  const Tensor x = gen.normal_tensor({2, 16, 3, 3}), g = gen.normal_tensor({2, 16, 3, 3});
  const NipqDraws draws{.key = 0, .jitter = 0.1f, .noise = gen.uniform_tensor({2, 16, 3, 3}, -0.5f, 0.5f)};
  const NipqSettings s{.is_signed = true, .noise = true, .histogram = true, .bits_min = 2, .bits_max = 8};
  std::vector<std::vector<float>> results;
  for (const Tensor& in : {x, blocked(x)}) {
    const Variable xv(in, true), a(Tensor::full({1}, 1.0f), true), theta(Tensor::full({1}, 0.3f), true);
    const Variable y = nipq_quantize(xv, a, theta, s, draws);
    y.backward(g);
    results.push_back(y.data().to_vector());
    results.push_back(xv.grad().to_vector());
    results.push_back({a.grad().item(), theta.grad().item()});
  }
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < results[i].size(); ++j)
      EXPECT_NEAR(results[i][j], results[i + 3][j], 1e-5) << i << " " << j;
}

}  // namespace
}  // namespace qat
