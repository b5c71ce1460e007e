#include "quant/export/weight_dequantize.h"

#include <cmath>

#include "engine/error.h"

namespace qat {

ElementGrid element_grid(const QuantizedWeight& w, int64_t r, int64_t j) {
  if (!w.levels.empty()) {
    const int32_t n = w.levels[j];
    if (n <= 1) return {.step = 1.0, .zero = 0.0};
    const double lo = w.row_lo[r], hi = w.row_hi[r], step = (hi - lo) / (n - 1);
    return {.step = step, .zero = std::nearbyint(-lo / step)};
  }
  int64_t index = w.scale.size() == 1 ? 0 : r;
  if (w.group_size > 0) {
    const int64_t in = static_cast<int64_t>(w.codes.size()) / w.out_channels();
    index = r * ((in + w.group_size - 1) / w.group_size) + j / w.group_size;
  }
  return {.step = w.scale[index], .zero = static_cast<double>(w.zero_point[index])};
}

std::vector<float> dequantize(const QuantizedWeight& w) {
  const int64_t m = w.out_channels(), d = static_cast<int64_t>(w.codes.size()) / m;
  QAT_CHECK(w.col_scale.empty() || static_cast<int64_t>(w.col_scale.size()) == d,
            "dequantize: ", w.col_scale.size(), " column scales for ", d, " input columns");
  Eigen::MatrixXd v(m, d);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < d; ++j) {
      const ElementGrid g = element_grid(w, r, j);
      v(r, j) = g.step * (static_cast<double>(w.codes[r * d + j]) - g.zero);
    }
  ptq::apply_transform_transpose(w.out, v);  // Uᵀ·V̂
  Eigen::MatrixXd vt = v.transpose();
  ptq::apply_transform_transpose(w.in, vt);  // (V̂·V)ᵀ = Vᵀ·V̂ᵀ
  v = vt.transpose();
  if (!w.col_scale.empty())
    for (int64_t j = 0; j < d; ++j) v.col(j) *= static_cast<double>(w.col_scale[j]);
  QAT_CHECK(w.row_scale.empty() || static_cast<int64_t>(w.row_scale.size()) == m,
            "dequantize: ", w.row_scale.size(), " row scales for ", m, " output rows");
  if (!w.row_scale.empty())
    for (int64_t r = 0; r < m; ++r) v.row(r) *= static_cast<double>(w.row_scale[r]);
  std::vector<float> out(m * d);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < d; ++j) out[r * d + j] = static_cast<float>(v(r, j));
  return out;
}

}  // namespace qat
