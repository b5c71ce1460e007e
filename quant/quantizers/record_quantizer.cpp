#include "quant/quantizers/record_quantizer.h"

#include <algorithm>

#include "engine/error.h"
#include "quant/export/weight_dequantize.h"

namespace qat {
namespace {

using ptq::WeightTransform;

constexpr int64_t kTransformFields = 3;  // kind, seed bits 0–31, seed bits 32–63

template <typename T>
std::vector<T> values_of(const Tensor& t, DType dtype, const char* name) {
  QAT_CHECK(t.dtype() == dtype, "record quantizer: buffer '", name, "' is ", t.str(), ", expected ",
            to_string(dtype));
  const Tensor plain = t.contiguous();
  const T* p = static_cast<const T*>(plain.raw());
  return std::vector<T>(p, p + plain.numel());
}

template <typename T>
void store(Tensor& t, const std::vector<T>& values, const char* name) {
  QAT_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "record quantizer: ", values.size(), " ", name,
            " values, the layout has ", t.numel());
  if (t.dtype() == DType::f32)
    std::copy(values.begin(), values.end(), t.data<float>());
  else
    std::transform(values.begin(), values.end(), t.data<int32_t>(),
                   [](T v) { return static_cast<int32_t>(v); });
}

void store_transform(int32_t* fields, const WeightTransform& t) {
  fields[0] = static_cast<int32_t>(t.kind);
  fields[1] = static_cast<int32_t>(static_cast<uint32_t>(t.seed));
  fields[2] = static_cast<int32_t>(static_cast<uint32_t>(t.seed >> 32));
}

WeightTransform transform_of(const int32_t* fields, int64_t n) {
  const uint64_t seed =
      (static_cast<uint64_t>(static_cast<uint32_t>(fields[2])) << 32) | static_cast<uint32_t>(fields[1]);
  QAT_CHECK(fields[0] >= 0 && fields[0] <= static_cast<int32_t>(WeightTransform::Kind::kronecker),
            "record quantizer: transform kind ", fields[0], " is unknown");
  return ptq::make_transform(static_cast<WeightTransform::Kind>(fields[0]), n, seed);
}

}  // namespace

RecordQuantizer::RecordQuantizer(const QuantizerOptions& options)
    : Quantizer(options), layout_(options.record.value_or(ptq::RecordLayout{})) {
  QAT_CHECK(options.target == QuantTarget::weight && options.record && !layout_.shape.empty(),
            "record quantizer: weights only, with the layout of their record (qat ptq's policy gives it)");
  const int64_t out = layout_.shape[0], columns = numel(layout_.shape) / out;
  codes_ = Tensor::zeros(layout_.shape, DType::s32);
  grid_ = Tensor::zeros({4}, DType::s32);
  register_buffer("codes", codes_);
  register_buffer("grid", grid_);
  if (layout_.scales > 0) {
    scale_ = Tensor::zeros({layout_.scales});
    zero_point_ = Tensor::zeros({layout_.scales}, DType::s32);
    register_buffer("scale", scale_);
    register_buffer("zero_point", zero_point_);
  }
  if (layout_.levels) {
    levels_ = Tensor::zeros({columns}, DType::s32);
    row_lo_ = Tensor::zeros({out});
    row_hi_ = Tensor::zeros({out});
    register_buffer("levels", levels_);
    register_buffer("row_lo", row_lo_);
    register_buffer("row_hi", row_hi_);
  }
  if (layout_.col_scale) {
    col_scale_ = Tensor::zeros({columns});
    register_buffer("col_scale", col_scale_);
  }
  if (layout_.transforms) {
    transforms_ = Tensor::zeros({2, kTransformFields}, DType::s32);
    register_buffer("transforms", transforms_);
  }
}

Variable RecordQuantizer::forward(const Variable& x) {
  QAT_CHECK(x.shape() == layout_.shape, "record quantizer: weight ", x.str(), " for a record of shape ",
            to_string(layout_.shape));
  return initialized() ? Quantizer::forward(x) : x;
}

void RecordQuantizer::set_record(const QuantizedWeight& r) {
  const bool transforms =
      r.in.kind != WeightTransform::Kind::none || r.out.kind != WeightTransform::Kind::none;
  QAT_CHECK(r.shape == layout_.shape && r.group_size == layout_.group_size &&
                static_cast<int64_t>(r.scale.size()) == layout_.scales &&
                r.zero_point.size() == r.scale.size() && r.levels.empty() != layout_.levels &&
                r.col_scale.empty() != layout_.col_scale && transforms == layout_.transforms,
            "record quantizer: a record of shape ", to_string(r.shape), ", group size ", r.group_size, ", ",
            r.scale.size(), " scales", r.levels.empty() ? "" : ", levels",
            r.col_scale.empty() ? "" : ", col_scale", transforms ? ", transforms" : "",
            " does not have the layout's fields (shape ", to_string(layout_.shape), ", group size ",
            layout_.group_size, ", ", layout_.scales, " scales", layout_.levels ? ", levels" : "",
            layout_.col_scale ? ", col_scale" : "", layout_.transforms ? ", transforms" : "", ")");
  store(codes_, r.codes, "codes");
  store(grid_, std::vector<int64_t>{r.qmin, r.qmax, r.bits, r.code_stride}, "grid");
  if (layout_.scales > 0) {
    store(scale_, r.scale, "scale");
    store(zero_point_, r.zero_point, "zero_point");
  }
  if (layout_.levels) {
    store(levels_, r.levels, "levels");
    store(row_lo_, r.row_lo, "row_lo");
    store(row_hi_, r.row_hi, "row_hi");
  }
  if (layout_.col_scale) store(col_scale_, r.col_scale, "col_scale");
  if (layout_.transforms) {
    store_transform(transforms_.data<int32_t>(), r.in);
    store_transform(transforms_.data<int32_t>() + kTransformFields, r.out);
  }
  set_initialized(r.qmin < 0);
}

QuantizedWeight RecordQuantizer::record() const {
  QAT_CHECK(initialized(), "record quantizer: no record yet (qat ptq sets it, a checkpoint loads it)");
  const std::vector<int32_t> grid = values_of<int32_t>(grid_, DType::s32, "grid");
  const std::vector<int32_t> codes = values_of<int32_t>(codes_, DType::s32, "codes");
  QuantizedWeight w{.shape = layout_.shape,
                    .codes = std::vector<int64_t>(codes.begin(), codes.end()),
                    .scale = {},
                    .zero_point = {},
                    .qmin = grid[0],
                    .qmax = grid[1],
                    .bits = grid[2],
                    .bias = {}};
  w.code_stride = grid[3];
  w.group_size = layout_.group_size;
  if (layout_.scales > 0) {
    w.scale = values_of<float>(scale_, DType::f32, "scale");
    const std::vector<int32_t> zero = values_of<int32_t>(zero_point_, DType::s32, "zero_point");
    w.zero_point.assign(zero.begin(), zero.end());
  }
  if (layout_.levels) {
    w.levels = values_of<int32_t>(levels_, DType::s32, "levels");
    w.row_lo = values_of<float>(row_lo_, DType::f32, "row_lo");
    w.row_hi = values_of<float>(row_hi_, DType::f32, "row_hi");
  }
  if (layout_.col_scale) w.col_scale = values_of<float>(col_scale_, DType::f32, "col_scale");
  if (layout_.transforms) {
    const std::vector<int32_t> t = values_of<int32_t>(transforms_, DType::s32, "transforms");
    w.in = transform_of(t.data(), numel(layout_.shape) / layout_.shape[0]);
    w.out = transform_of(t.data() + kTransformFields, layout_.shape[0]);
  }
  return w;
}

QuantGrid RecordQuantizer::grid() const {
  const QuantizedWeight w = record();
  const std::string field = ptq_field(w);
  QAT_CHECK(field.empty(), "record quantizer: a record with '", field, "' has no per-row grid");
  QuantGrid g{.scale = w.scale, .offset = {}, .qmin = w.qmin, .qmax = w.qmax, .bits = w.bits};
  for (size_t c = 0; c < w.scale.size(); ++c)
    g.offset.push_back(-static_cast<float>(w.zero_point[c]) * w.scale[c]);
  return g;
}

void RecordQuantizer::initialize(const Tensor& x) {
  detail::fail("record quantizer: a record is set by qat ptq, not fitted to a tensor (", x.str(), ")");
}

Variable RecordQuantizer::quantize(const Variable&) {
  return Variable(Tensor::from_vector(layout_.shape, dequantize(record())));
}

}  // namespace qat
