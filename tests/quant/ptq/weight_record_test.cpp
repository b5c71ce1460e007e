#include "quant/ptq/weight_record.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "quant/export/packed_file.h"
#include "quant/export/packed_weight_fields.h"
#include "quant/export/weight_dequantize.h"
#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/optq.h"
#include "quant/ptq/rtn.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

struct Case {
  std::string name;
  QuantizedWeight record;
  Eigen::MatrixXd w_hat;  // the method's own quantized weight
};

// One record per feature: per row, groups, column scale with groups, transforms and odd codes, row scales
// after the output transform, levels.
std::vector<Case> records() {
  const Shape conv{12, 3, 3, 3}, linear{16, 96};
  const Eigen::MatrixXd wc = test::gaussian(12, 27, 1), wl = test::gaussian(16, 96, 2);
  Eigen::MatrixXd w = wl;
  const FixedHessian h = fix_hessian(test::sample_hessian(96, 300, 3), w, 0.01);
  std::vector<Case> out;
  const GridCodes rtn = rtn_quantize(wc, GridKind::asym0, 3, 0);
  out.push_back({"rtn per row", grid_record(rtn, conv, 3), rtn.dequantize()});
  const GridCodes optq = optq_quantize(w, h.h, {.bits = 4, .group_size = 40}).codes;
  out.push_back({"optq groups", grid_record(optq, linear, 4), optq.dequantize()});
  const SinqResult sinq = sinq_quantize(wl, {.bits = 3, .kurtosis_gate = 0.0});
  out.push_back({"sinq", sinq_record(sinq, linear, 3), sinq.dequantize()});
  for (const auto kind : {WeightTransform::Kind::hadamard, WeightTransform::Kind::kronecker}) {
    const QuipResult quip = quip_quantize(wl, h.h, {.bits = 2, .incoherence = kind});
    out.push_back({"quip", quip_record(quip, linear, 2), quip.w_hat});
  }
  // A batch norm after QuIP's output transform: its k as row scales after Uᵀ (one of them negative).
  Case scaled = out.back();
  scaled.name = "quip row scale";
  for (int64_t r = 0; r < 16; ++r) scaled.record.row_scale.push_back(r == 3 ? -0.7f : 0.5f + 0.1f * r);
  for (int64_t r = 0; r < 16; ++r) scaled.w_hat.row(r) *= scaled.record.row_scale[r];
  out.push_back(scaled);
  const BaqResult baq = baq_quantize(w, h.h, baq_calibrate(w, h.h, 3).loss, {.rate = 3.0});
  out.push_back({"baq", baq_record(baq, linear), baq.codes.dequantize()});
  return out;
}

Eigen::MatrixXd as_matrix(const std::vector<float>& v, int64_t rows) {
  const auto cols = static_cast<int64_t>(v.size()) / rows;
  Eigen::MatrixXd m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m(i / cols, i % cols) = v[i];
  return m;
}

TEST(PtqWeightRecord, DequantizeIsTheMethodsWeight) {
  for (const Case& c : records()) {
    const Eigen::MatrixXd w = as_matrix(dequantize(c.record), c.record.out_channels());
    EXPECT_LT((w - c.w_hat).cwiseAbs().maxCoeff(), 1e-5 * c.w_hat.cwiseAbs().maxCoeff()) << c.name;
  }
}

void expect_same_transform(const WeightTransform& a, const WeightTransform& b, const std::string& what) {
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.n, b.n) << what;
  EXPECT_EQ(a.seed, b.seed) << what;
  EXPECT_EQ(a.signs, b.signs) << what;
  EXPECT_EQ(a.p, b.p) << what;
  EXPECT_EQ(a.q, b.q) << what;
  EXPECT_EQ(a.perm_in, b.perm_in) << what;
  EXPECT_EQ(a.perm_out, b.perm_out) << what;
  EXPECT_EQ(a.blocks, b.blocks) << what;
}

TEST(PtqWeightRecord, EveryFieldSurvivesThePackedFile) {
  const std::vector<Case> cases = records();
  PackedModel model{.config = "", .layers = {}};
  for (size_t i = 0; i < cases.size(); ++i)
    model.layers.push_back(
        {.path = "layer" + std::to_string(i),
         .kind = cases[i].record.shape.size() == 4 ? PackedKind::conv2d : PackedKind::linear,
         .weight = cases[i].record,
         .batch_norm = "",
         .relu = false,
         .input = std::nullopt});
  const std::string path = (std::filesystem::temp_directory_path() / "ptq_record_roundtrip.h5").string();
  save_packed(model, path);
  const PackedModel loaded = load_packed(path);
  std::filesystem::remove(path);
  ASSERT_EQ(loaded.layers.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const QuantizedWeight &a = cases[i].record, &b = loaded.layers[i].weight;
    const std::string& what = cases[i].name;
    EXPECT_EQ(a.shape, b.shape) << what;
    EXPECT_EQ(a.codes, b.codes) << what;
    EXPECT_EQ(a.scale, b.scale) << what;
    EXPECT_EQ(a.zero_point, b.zero_point) << what;
    EXPECT_EQ(a.qmin, b.qmin) << what;
    EXPECT_EQ(a.qmax, b.qmax) << what;
    EXPECT_EQ(a.bits, b.bits) << what;
    EXPECT_EQ(a.group_size, b.group_size) << what;
    EXPECT_EQ(a.code_stride, b.code_stride) << what;
    EXPECT_EQ(a.levels, b.levels) << what;
    EXPECT_EQ(a.row_lo, b.row_lo) << what;
    EXPECT_EQ(a.row_hi, b.row_hi) << what;
    EXPECT_EQ(a.col_scale, b.col_scale) << what;
    EXPECT_EQ(a.row_scale, b.row_scale) << what;
    expect_same_transform(a.in, b.in, what + " V");
    expect_same_transform(a.out, b.out, what + " U");
    EXPECT_EQ(dequantize(a), dequantize(b)) << what;
    EXPECT_EQ(payload_bytes(loaded.layers[i]), packed_code_bytes(a)) << what;
  }
}

// BAQ columns pack at ⌈log2 n_j⌉ bits each; QuIP's odd codes at b bits, not b + 1.
TEST(PtqWeightRecord, PayloadCountsEachColumnAtItsOwnWidth) {
  for (const Case& c : records()) {
    const QuantizedWeight& w = c.record;
    int64_t expected = 0;
    if (w.levels.empty()) expected = (static_cast<int64_t>(w.codes.size()) * w.bits + 7) / 8;
    for (const int32_t n : w.levels) {
      int bits = 0;
      while ((1 << bits) < n) ++bits;
      expected += (w.out_channels() * bits + 7) / 8;
    }
    EXPECT_EQ(packed_code_bytes(w), expected) << c.name;
  }
}

}  // namespace
}  // namespace qat::ptq
