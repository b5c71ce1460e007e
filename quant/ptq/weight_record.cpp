#include "quant/ptq/weight_record.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "engine/error.h"

namespace qat::ptq {

namespace {

QuantizedWeight codes_record(const Eigen::MatrixXi& codes, const Shape& shape, int bits) {
  QAT_CHECK(!shape.empty() && shape[0] == codes.rows() && numel(shape) == codes.size(),
            "weight record: ", codes.rows(), "×", codes.cols(), " codes for shape ", to_string(shape));
  QuantizedWeight w{.shape = shape,
                    .codes = {},
                    .scale = {},
                    .zero_point = {},
                    .qmin = 0,
                    .qmax = (int64_t{1} << bits) - 1,
                    .bits = bits,
                    .bias = {}};
  for (Eigen::Index r = 0; r < codes.rows(); ++r)
    for (Eigen::Index j = 0; j < codes.cols(); ++j) w.codes.push_back(codes(r, j));
  return w;
}

int64_t integer_zero(double zero) {
  const double z = std::nearbyint(zero);
  QAT_CHECK(std::abs(z - zero) < 1e-9, "weight record: zero point ", zero, " is not an integer");
  return static_cast<int64_t>(z);
}

}  // namespace

QuantizedWeight grid_record(const GridCodes& codes, const Shape& shape, int bits) {
  QuantizedWeight w = codes_record(codes.codes, shape, bits);
  w.group_size = codes.groups() > 1 ? codes.group_size : 0;
  for (Eigen::Index r = 0; r < codes.step.rows(); ++r)
    for (Eigen::Index g = 0; g < codes.groups(); ++g) {
      w.scale.push_back(static_cast<float>(codes.step(r, g)));
      w.zero_point.push_back(integer_zero(codes.zero(r, g)));
    }
  return w;
}

QuantizedWeight sinq_record(const SinqResult& r, const Shape& shape, int bits) {
  QuantizedWeight w = grid_record(r.codes, shape, bits);
  w.col_scale.assign(r.col_scale.data(), r.col_scale.data() + r.col_scale.size());
  return w;
}

QuantizedWeight quip_record(const QuipResult& r, const Shape& shape, int bits) {
  QuantizedWeight w = codes_record(r.codes.codes, shape, bits);
  const int64_t maxq = w.qmax;
  for (int64_t& c : w.codes) c = 2 * c - maxq;
  w.qmin = -maxq;
  w.code_stride = 2;
  w.scale.assign(1, static_cast<float>(r.codes.step(0, 0) / 2.0));  // step 2s/maxq per unit of k
  w.zero_point.assign(1, 0);
  w.col_scale.assign(r.col_scale.data(), r.col_scale.data() + r.col_scale.size());
  if (r.in.kind != WeightTransform::Kind::none) w.in = r.in;
  if (r.out.kind != WeightTransform::Kind::none) w.out = r.out;
  return w;
}

QuantizedWeight baq_record(const BaqResult& r, const Shape& shape) {
  const int32_t most = *std::max_element(r.levels.levels.begin(), r.levels.levels.end());
  const int bits = std::max(1, static_cast<int>(std::bit_width(static_cast<uint32_t>(most - 1))));
  QuantizedWeight w = codes_record(r.codes.codes, shape, bits);
  w.qmax = std::max(1, most - 1);
  w.levels = r.levels.levels;
  w.row_lo.assign(r.row_lo.data(), r.row_lo.data() + r.row_lo.size());
  w.row_hi.assign(r.row_hi.data(), r.row_hi.data() + r.row_hi.size());
  return w;
}

}  // namespace qat::ptq
