#include "quant/export/quantized_weight.h"

#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "quant/quantizers/record_quantizer.h"

namespace qat {

ChannelAffine fold_batch_norm(BatchNorm2d& bn, int64_t channels, const std::string& path) {
  std::map<std::string, std::vector<float>> values;
  for (const auto& [name, p] : bn.named_parameters()) values[name] = p.data().to_vector();
  for (const auto& [name, t] : bn.named_buffers()) values[name] = t->to_vector();
  const std::vector<float>&gamma = values["weight"], &beta = values["bias"];
  const std::vector<float>&mean = values["running_mean"], &var = values["running_var"];
  QAT_CHECK(static_cast<int64_t>(gamma.size()) == channels, "batch norm '", path, "' has ", gamma.size(),
            " channels after a layer with ", channels);
  ChannelAffine fold{.k = {}, .shift = {}, .relu = bn.options().fuse_relu};
  for (int64_t c = 0; c < channels; ++c) {
    const double k = gamma[c] / std::sqrt(static_cast<double>(var[c]) + bn.options().eps);
    fold.k.push_back(static_cast<float>(k));
    fold.shift.push_back(static_cast<float>(beta[c] - mean[c] * k));
  }
  return fold;
}

std::vector<float> folded_bias(const WeightedLayer& layer, const ChannelAffine* fold) {
  const int64_t out = layer.weight().dim(0);
  if (!layer.bias().defined() && !fold) return {};
  std::vector<float> b =
      layer.bias().defined() ? layer.bias().data().to_vector() : std::vector<float>(out, 0.0f);
  if (fold)
    for (int64_t c = 0; c < out; ++c) b[c] = b[c] * fold->k[c] + fold->shift[c];
  return b;
}

std::string ptq_field(const QuantizedWeight& w) {
  if (w.group_size > 0) return "group_size";
  if (w.code_stride != 1) return "code_stride";
  if (!w.levels.empty()) return "levels";
  if (!w.col_scale.empty()) return "col_scale";
  if (w.in.kind != ptq::WeightTransform::Kind::none) return "in";
  if (w.out.kind != ptq::WeightTransform::Kind::none) return "out";
  if (!w.row_scale.empty()) return "row_scale";
  return "";
}

// output = (code − zp)·scale = code·scale + offset, so zp = −offset/scale.
int64_t integer_zero_point(float offset, float scale, const std::string& what) {
  const double zp = -static_cast<double>(offset) / scale;
  const double rounded = std::nearbyint(zp);
  QAT_CHECK(std::abs(zp - rounded) <= 1e-3 * std::max(1.0, std::abs(rounded)), what,
            ": zero point −offset/scale = ", zp,
            " is not an integer (integer kernels and ONNX Q/DQ need one)");
  return static_cast<int64_t>(rounded);
}

namespace {

// A post-training record with the batch norm's k[r] on row r: its scales (per row, or per row and group)
// or BAQ's row ranges. An output transform mixes the rows, so then k goes after it, into row_scale.
QuantizedWeight record_weight(const RecordQuantizer& q, const WeightedLayer& layer, const std::string& path,
                              const ChannelAffine* fold) {
  QAT_CHECK(q.initialized(), path, ".wq: no record (run qat ptq or load its checkpoint)");
  QuantizedWeight w = q.record();
  w.bias = folded_bias(layer, fold);
  if (!fold) return w;
  if (w.out.kind != ptq::WeightTransform::Kind::none) {
    w.row_scale = fold->k;
    return w;
  }
  const int64_t out = w.out_channels();
  if (w.scale.size() == 1) {
    w.scale.assign(out, w.scale[0]);
    w.zero_point.assign(out, w.zero_point[0]);
  }
  const auto per_row = static_cast<int64_t>(w.scale.size()) / out;
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t i = 0; i < per_row; ++i) w.scale[r * per_row + i] *= fold->k[r];
    if (!w.levels.empty()) w.row_lo[r] *= fold->k[r], w.row_hi[r] *= fold->k[r];
  }
  return w;
}

}  // namespace

QuantizedWeight quantize_weight(QuantizedLayer& layer, const std::string& path, const ChannelAffine* fold) {
  const Quantizer* wq = layer.weight_quantizer();
  QAT_CHECK(wq, path, ": the weight has no quantizer");
  if (const auto* record = dynamic_cast<const RecordQuantizer*>(wq))
    return record_weight(*record, layer.layer(), path, fold);
  QAT_CHECK(wq->initialized(), path,
            ".wq: quantizer not initialized (run a forward pass or load a checkpoint)");
  const QuantGrid grid = wq->grid();
  std::vector<float> q;
  {
    NoGrad no_grad;
    q = layer.effective_weight().data().to_vector();
  }
  const Variable& weight = layer.layer().weight();
  const auto channels = static_cast<int64_t>(grid.scale.size());
  const int64_t out = weight.dim(0), inner = static_cast<int64_t>(q.size()) / out;
  QAT_CHECK((channels == 1 || channels == out) && grid.offset.size() == grid.scale.size(), path, ".wq has ",
            channels, " scales and ", grid.offset.size(), " offsets for ", out, " output channels");
  QuantizedWeight w{.shape = weight.shape(),
                    .codes = {},
                    .scale = grid.scale,
                    .zero_point = {},
                    .qmin = grid.qmin,
                    .qmax = grid.qmax,
                    .bits = grid.bits,
                    .bias = {}};
  for (int64_t c = 0; c < channels; ++c)
    w.zero_point.push_back(integer_zero_point(grid.offset[c], grid.scale[c], path + ".wq"));
  w.codes.reserve(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    const int64_t c = channels == 1 ? 0 : static_cast<int64_t>(i) / inner;
    const double v = (q[i] - static_cast<double>(grid.offset[c])) / grid.scale[c];
    const double code = std::nearbyint(v);
    QAT_CHECK(std::abs(v - code) < 1e-2 && grid.qmin <= code && code <= grid.qmax, "weight ", i, " of ", path,
              " (", q[i], ") is not on its quantizer's grid");
    w.codes.push_back(static_cast<int64_t>(code));
  }
  w.bias = folded_bias(layer.layer(), fold);
  if (!fold) return w;
  if (channels == 1) {
    w.scale.assign(out, w.scale[0]);
    w.zero_point.assign(out, w.zero_point[0]);
  }
  for (int64_t c = 0; c < out; ++c) w.scale[c] *= fold->k[c];
  return w;
}

}  // namespace qat
