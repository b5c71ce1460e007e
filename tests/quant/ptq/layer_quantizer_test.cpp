#include "quant/ptq/layer_quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "quant/export/weight_dequantize.h"
#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/optq.h"
#include "tests/quant/ptq/ptq_test_util.h"
#include "tests/test_util.h"

namespace qat::ptq {
namespace {

LayerWeight linear(int64_t out, int64_t in, uint64_t seed) {
  return {.path = "fc", .w = test::gaussian(out, in, seed), .shape = {out, in}};
}

LayerWeight conv(int64_t out, int64_t in_per_group, int64_t k, int64_t groups, uint64_t seed) {
  return {.path = "conv",
          .w = test::gaussian(out, in_per_group * k * k, seed),
          .shape = {out, in_per_group, k, k},
          .convolution = true,
          .pointwise = k == 1,
          .groups = groups};
}

std::vector<Eigen::MatrixXd> hessians(int64_t groups, int64_t d, uint64_t seed) {
  std::vector<Eigen::MatrixXd> h;
  for (int64_t g = 0; g < groups; ++g) h.push_back(test::sample_hessian(d, 4 * d, seed + g));
  return h;
}

TEST(PtqLayerQuantizer, MethodsOutOfScopeFallBack) {
  const LayerWeight c3 = conv(8, 4, 3, 1, 1), grouped = conv(8, 2, 1, 2, 2), fc = linear(8, 32, 3);
  const auto h3 = hessians(1, 36, 4), hg = hessians(2, 2, 5), hf = hessians(1, 32, 6);
  EXPECT_EQ(quantize_layer(c3, h3, {.method = "quip", .bits = 2}).report.method, "optq");
  EXPECT_EQ(quantize_layer(grouped, hg, {.method = "quip", .bits = 2}).report.method, "optq");
  EXPECT_EQ(quantize_layer(c3, h3, {.method = "sinq", .bits = 3}).report.method, "rtn");
  EXPECT_EQ(quantize_layer(grouped, hg, {.method = "baq", .bits = 3}).report.method, "optq");
  const LayerResult quip = quantize_layer(fc, hf, {.method = "quip", .bits = 2});
  EXPECT_EQ(quip.report.method, "quip");
  EXPECT_EQ(quip.record.in.kind, WeightTransform::Kind::kronecker);
  LayerWeight other = fc;
  other.path = "fc2";  // another layer gets other transforms from the same transform_seed
  EXPECT_NE(quantize_layer(other, hf, {.method = "quip", .bits = 2}).record.in.seed, quip.record.in.seed);
  EXPECT_NE(test::error_of([&] { quantize_layer(fc, hf, {.method = "gptq"}); }), "");
}

// Each convolution group is quantized under its own H: the stacked result is OPTQ on each group alone.
TEST(PtqLayerQuantizer, GroupedConvolutionUsesEachGroupsHessian) {
  const LayerWeight l = conv(6, 3, 3, 2, 7);
  const auto h = hessians(2, 27, 8);
  const LayerResult r = quantize_layer(l, h, {.method = "optq", .bits = 3});
  Eigen::MatrixXi codes(6, 27);
  for (int64_t i = 0; i < 6 * 27; ++i) codes(i / 27, i % 27) = static_cast<int>(r.record.codes[i]);
  for (int64_t g = 0; g < 2; ++g) {
    Eigen::MatrixXd w = l.w.middleRows(3 * g, 3);
    const FixedHessian f = fix_hessian(h[g], w, 0.01);
    const OptqResult expected = optq_quantize(w, f.h, {.bits = 3});
    EXPECT_EQ(Eigen::MatrixXi(codes.middleRows(3 * g, 3)), expected.codes.codes) << "group " << g;
  }
}

// ℓ is reported in the original basis with the undamped H, for the weight the record stands for.
TEST(PtqLayerQuantizer, ReportsTheProxyLossOfTheRecord) {
  const LayerWeight fc = linear(16, 64, 9);
  const auto h = hessians(1, 64, 10);
  for (const std::string method : {"rtn", "optq", "quip", "sinq", "baq"}) {
    const PtqOptions o{.method = method, .bits = 3, .group_size = method == "optq" ? 16 : 0};
    const LayerResult r =
        quantize_layer(fc, h, o, method == "baq" ? baq_first_pass(fc, h, o) : std::vector<Eigen::VectorXd>{});
    const std::vector<float> v = dequantize(r.record);
    Eigen::MatrixXd w(16, 64);
    for (int64_t i = 0; i < 16 * 64; ++i) w(i / 64, i % 64) = v[i];
    const double loss = proxy_loss(fc.w - w, h[0]);
    EXPECT_NEAR(r.report.loss, loss, 1e-4 * loss) << method;
    EXPECT_NEAR(r.report.relative_loss, loss / proxy_loss(fc.w, h[0]), 1e-4 * r.report.relative_loss)
        << method;
    const std::string row = layer_report_row(r.report), header = layer_report_header();
    EXPECT_EQ(std::count(row.begin(), row.end(), ','), std::count(header.begin(), header.end(), ','));
  }
}

}  // namespace
}  // namespace qat::ptq
