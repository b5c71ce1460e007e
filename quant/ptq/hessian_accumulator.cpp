#include "quant/ptq/hessian_accumulator.h"

#include <algorithm>

#include "engine/error.h"

namespace qat::ptq {

HessianAccumulator::HessianAccumulator(int64_t columns, int64_t groups)
    : columns_(columns), sums_(groups, Eigen::MatrixXd::Zero(columns, columns)), rows_(groups, 0) {
  QAT_CHECK(columns > 0 && groups > 0, "HessianAccumulator: ", columns, " columns, ", groups, " groups");
}

void HessianAccumulator::add_rows(const Eigen::Ref<const InputRows>& rows, int64_t group) {
  QAT_CHECK(rows.cols() == columns_ && group >= 0 && group < static_cast<int64_t>(sums_.size()),
            "HessianAccumulator: rows of ", rows.cols(), " columns for group ", group, " of an H with ",
            columns_, " columns and ", sums_.size(), " groups");
  sums_[group].selfadjointView<Eigen::Lower>().rankUpdate(rows.transpose());
  rows_[group] += rows.rows();
}

void HessianAccumulator::add_linear(const Tensor& x) {
  QAT_CHECK(x.ndim() >= 1 && x.dim(-1) == columns_, "HessianAccumulator: Linear input ", x.str(), " for ",
            columns_, " columns");
  const std::vector<float> values = x.to_vector();
  const auto n = static_cast<Eigen::Index>(values.size()) / columns_;
  using FloatRows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  add_rows(Eigen::Map<const FloatRows>(values.data(), n, columns_).cast<double>());
}

void HessianAccumulator::add_conv(const Tensor& x, const Conv2dOptions& conv, int64_t chunk_rows) {
  QAT_CHECK(x.ndim() == 4 && chunk_rows > 0, "HessianAccumulator: Conv2d input ", x.str(), ", chunks of ",
            chunk_rows);
  const int64_t k = conv.kernel, span = conv.dilation * (k - 1) + 1;
  const int64_t ho = (x.dim(2) + 2 * conv.padding - span) / conv.stride + 1;
  const int64_t wo = (x.dim(3) + 2 * conv.padding - span) / conv.stride + 1;
  const int64_t total = x.dim(0) * ho * wo;
  const std::vector<float> values = x.to_vector();
  for (int64_t g = 0; g < conv.groups; ++g)
    for (int64_t first = 0; first < total; first += chunk_rows)
      add_rows(conv_input_rows(values, x.shape(), conv, g, first, std::min(chunk_rows, total - first)), g);
}

std::vector<Eigen::MatrixXd> HessianAccumulator::hessians() const {
  std::vector<Eigen::MatrixXd> out;
  for (size_t g = 0; g < sums_.size(); ++g) {
    QAT_CHECK(rows_[g] > 0, "HessianAccumulator: no rows were added to group ", g);
    Eigen::MatrixXd h = sums_[g].selfadjointView<Eigen::Lower>();
    out.push_back(h / static_cast<double>(rows_[g]));
  }
  return out;
}

InputRows conv_input_rows(const std::vector<float>& x, const Shape& shape, const Conv2dOptions& conv,
                          int64_t group, int64_t first, int64_t count) {
  const int64_t channels = shape[1] / conv.groups, height = shape[2], width = shape[3], k = conv.kernel;
  const int64_t span = conv.dilation * (k - 1) + 1;
  const int64_t ho = (height + 2 * conv.padding - span) / conv.stride + 1;
  const int64_t wo = (width + 2 * conv.padding - span) / conv.stride + 1;
  QAT_CHECK(shape[1] % conv.groups == 0 && ho > 0 && wo > 0, "conv_input_rows: input ", shape.size(),
            "-d with ", shape[1], " channels for ", conv.groups, " groups, output ", ho, "×", wo);
  InputRows rows = InputRows::Zero(count, channels * k * k);
  for (int64_t r = 0; r < count; ++r) {
    const int64_t index = first + r, n = index / (ho * wo), oy = index / wo % ho, ox = index % wo;
    for (int64_t c = 0; c < channels; ++c) {
      const float* plane = x.data() + ((n * shape[1] + group * channels + c) * height) * width;
      for (int64_t i = 0; i < k; ++i) {
        const int64_t y = oy * conv.stride - conv.padding + i * conv.dilation;
        if (y < 0 || y >= height) continue;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t xx = ox * conv.stride - conv.padding + j * conv.dilation;
          if (xx >= 0 && xx < width) rows(r, (c * k + i) * k + j) = plane[y * width + xx];
        }
      }
    }
  }
  return rows;
}

}  // namespace qat::ptq
