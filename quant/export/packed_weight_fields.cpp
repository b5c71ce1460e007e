#include "quant/export/packed_weight_fields.h"

#include <algorithm>
#include <bit>

#include "engine/error.h"
#include "engine/hdf5_file.h"
#include "quant/export/bit_packing.h"

namespace qat {
namespace {

using ptq::WeightTransform;

int column_bits(int32_t levels) {
  return levels <= 1 ? 0 : std::bit_width(static_cast<uint32_t>(levels - 1));
}

int64_t in_columns(const QuantizedWeight& w) { return numel(w.shape) / w.shape.at(0); }

bool exists(hid_t group, const std::string& name) { return H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0; }

template <typename T>
void write_values(hid_t group, const std::string& name, const std::vector<T>& values, DType dtype,
                  const std::string& at) {
  if (values.empty()) return;
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, dtype);
  if (dtype == DType::s8) std::copy(values.begin(), values.end(), t.data<int8_t>());
  if (dtype == DType::s32) std::copy(values.begin(), values.end(), t.data<int32_t>());
  if (dtype == DType::f32) std::copy(values.begin(), values.end(), t.data<float>());
  hdf5::write_tensor(group, name, t, at);
}

// A 1-D dataset of `dtype` with `expected` elements; empty when absent.
template <typename T>
std::vector<T> read_values(hid_t group, const std::string& name, DType dtype, int64_t expected,
                           const std::string& at) {
  if (!exists(group, name)) return {};
  const Tensor t = hdf5::read_tensor(group, name, at + ": dataset '" + name + "'");
  QAT_CHECK(t.ndim() == 1 && t.dtype() == dtype && t.numel() == expected, at, ": dataset '", name, "' is ",
            t.str(), ", expected [", expected, "] ", to_string(dtype));
  const T* p = static_cast<const T*>(t.raw());
  return std::vector<T>(p, p + t.numel());
}

const char* kind_name(WeightTransform::Kind kind) {
  return kind == WeightTransform::Kind::hadamard ? "hadamard" : "kronecker";
}

std::vector<float> as_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

void write_transform(hid_t parent, const std::string& name, const WeightTransform& t, const std::string& at) {
  if (t.kind == WeightTransform::Kind::none) return;
  hdf5::Handle group(hdf5::create_group(parent, name), H5Gclose);
  QAT_CHECK(group.valid(), at, ": cannot create group '", name, "'");
  const hid_t g = group.get();
  hdf5::write_string_attribute(g, "kind", kind_name(t.kind));
  hdf5::write_int_attribute(g, "n", t.n);
  hdf5::write_int_attribute(g, "seed", static_cast<int64_t>(t.seed));
  hdf5::write_int_attribute(g, "p", t.p);
  hdf5::write_int_attribute(g, "q", t.q);
  write_values(g, "signs", t.signs, DType::s8, at);
  write_values(g, "perm_in", t.perm_in, DType::s32, at);
  write_values(g, "perm_out", t.perm_out, DType::s32, at);
  write_values(g, "blocks", as_floats(t.blocks), DType::f32, at);
}

// The transform is regenerated from (kind, n, seed) in float64 and must match what the file stores.
WeightTransform read_transform(hid_t parent, const std::string& name, int64_t n, const std::string& where) {
  if (!exists(parent, name)) return {};
  const std::string at = where + ": " + name;
  hdf5::Handle group(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  QAT_CHECK(group.valid(), at, ": unreadable group");
  hdf5::require_checksummed_storage(group.get(), at);
  const hid_t g = group.get();
  const std::string kind = hdf5::read_string_attribute(g, "kind", at);
  QAT_CHECK(kind == "hadamard" || kind == "kronecker", at, ": kind '", kind,
            "' is not hadamard or kronecker");
  QAT_CHECK(hdf5::read_int_attribute(g, "n", at) == n, at, ": n is not ", n);
  const auto seed = static_cast<uint64_t>(hdf5::read_int_attribute(g, "seed", at));
  WeightTransform t = ptq::make_transform(
      kind == "hadamard" ? WeightTransform::Kind::hadamard : WeightTransform::Kind::kronecker, n, seed);
  QAT_CHECK(kind_name(t.kind) == kind && hdf5::read_int_attribute(g, "p", at) == t.p &&
                hdf5::read_int_attribute(g, "q", at) == t.q &&
                read_values<int8_t>(g, "signs", DType::s8, t.signs.size(), at) == t.signs &&
                read_values<int32_t>(g, "perm_in", DType::s32, t.perm_in.size(), at) == t.perm_in &&
                read_values<int32_t>(g, "perm_out", DType::s32, t.perm_out.size(), at) == t.perm_out &&
                read_values<float>(g, "blocks", DType::f32, t.blocks.size(), at) == as_floats(t.blocks),
            at, ": stored fields differ from the transform its seed generates");
  return t;
}

}  // namespace

int64_t packed_code_bytes(const QuantizedWeight& w) {
  if (w.levels.empty()) return packed_size(numel(w.shape), w.bits);
  int64_t bytes = 0;
  for (const int32_t n : w.levels)
    if (column_bits(n) > 0) bytes += packed_size(w.out_channels(), column_bits(n));
  return bytes;
}

std::vector<uint8_t> pack_weight_codes(const QuantizedWeight& w) {
  const int64_t m = w.out_channels(), d = static_cast<int64_t>(w.codes.size()) / m;
  if (w.levels.empty()) {
    std::vector<uint8_t> values(w.codes.size());
    for (size_t i = 0; i < values.size(); ++i) {
      QAT_CHECK((w.codes[i] - w.qmin) % w.code_stride == 0, "code ", w.codes[i], " is not on stride ",
                w.code_stride);
      values[i] = static_cast<uint8_t>((w.codes[i] - w.qmin) / w.code_stride);
    }
    return pack_bits(values, w.bits);
  }
  std::vector<uint8_t> bytes;
  for (int64_t j = 0; j < d; ++j) {
    if (column_bits(w.levels[j]) == 0) continue;
    std::vector<uint8_t> column(m);
    for (int64_t r = 0; r < m; ++r) column[r] = static_cast<uint8_t>(w.codes[r * d + j] - w.qmin);
    const std::vector<uint8_t> packed = pack_bits(column, column_bits(w.levels[j]));
    bytes.insert(bytes.end(), packed.begin(), packed.end());
  }
  return bytes;
}

std::vector<int64_t> unpack_weight_codes(const std::vector<uint8_t>& bytes, const QuantizedWeight& w,
                                         const std::string& at) {
  const int64_t m = w.out_channels(), d = numel(w.shape) / m;
  QAT_CHECK(static_cast<int64_t>(bytes.size()) == packed_code_bytes(w), at, ": weight_codes has ",
            bytes.size(), " bytes, expected ", packed_code_bytes(w));
  std::vector<int64_t> codes(m * d, w.qmin);
  if (w.levels.empty()) {
    const std::vector<uint8_t> values = unpack_bits(bytes, m * d, w.bits);
    for (int64_t i = 0; i < m * d; ++i) codes[i] = w.qmin + w.code_stride * static_cast<int64_t>(values[i]);
  }
  size_t offset = 0;
  for (int64_t j = 0; j < d && !w.levels.empty(); ++j) {
    const int bits = column_bits(w.levels[j]);
    if (bits == 0) continue;
    const int64_t size = packed_size(m, bits);
    const std::vector<uint8_t> column =
        unpack_bits(std::vector<uint8_t>(bytes.begin() + offset, bytes.begin() + offset + size), m, bits);
    offset += size;
    for (int64_t r = 0; r < m; ++r) {
      QAT_CHECK(column[r] < w.levels[j], at, ": code of column ", j, " above its ", w.levels[j], " levels");
      codes[r * d + j] = w.qmin + column[r];
    }
  }
  for (int64_t i = 0; i < m * d; ++i)
    QAT_CHECK(codes[i] <= w.qmax, at, ": weight_codes value ", i, " (", codes[i], ") is above qmax ", w.qmax);
  return codes;
}

bool valid_scale_count(const QuantizedWeight& w, int64_t count) {
  if (!w.levels.empty()) return count == 0;
  if (w.group_size > 0)
    return count == w.out_channels() * ((in_columns(w) + w.group_size - 1) / w.group_size);
  return count == 1 || count == w.out_channels();
}

void write_ptq_fields(hid_t group, const QuantizedWeight& w, const std::string& at) {
  hdf5::write_int_attribute(group, "group_size", w.group_size);
  hdf5::write_int_attribute(group, "code_stride", w.code_stride);
  write_values(group, "weight_levels", w.levels, DType::s32, at);
  write_values(group, "weight_row_lo", w.row_lo, DType::f32, at);
  write_values(group, "weight_row_hi", w.row_hi, DType::f32, at);
  write_values(group, "weight_col_scale", w.col_scale, DType::f32, at);
  write_transform(group, "weight_transform_in", w.in, at);
  write_transform(group, "weight_transform_out", w.out, at);
  write_values(group, "weight_row_scale", w.row_scale, DType::f32, at);
}

void read_ptq_fields(hid_t group, QuantizedWeight& w, const std::string& at) {
  const int64_t m = w.out_channels(), d = in_columns(w);
  w.group_size =
      hdf5::has_attribute(group, "group_size") ? hdf5::read_int_attribute(group, "group_size", at) : 0;
  w.code_stride = hdf5::has_attribute(group, "code_stride")
                      ? static_cast<int>(hdf5::read_int_attribute(group, "code_stride", at))
                      : 1;
  QAT_CHECK(w.group_size >= 0 && w.code_stride >= 1, at, ": group_size ", w.group_size, ", code_stride ",
            w.code_stride);
  w.levels = read_values<int32_t>(group, "weight_levels", DType::s32, d, at);
  QAT_CHECK(std::all_of(w.levels.begin(), w.levels.end(), [](int32_t n) { return n >= 1 && n <= 256; }), at,
            ": weight_levels outside 1…256");
  w.row_lo = read_values<float>(group, "weight_row_lo", DType::f32, m, at);
  w.row_hi = read_values<float>(group, "weight_row_hi", DType::f32, m, at);
  QAT_CHECK(w.levels.empty() == w.row_lo.empty() && w.levels.empty() == w.row_hi.empty(), at,
            ": weight_levels needs weight_row_lo and weight_row_hi");
  w.col_scale = read_values<float>(group, "weight_col_scale", DType::f32, d, at);
  w.in = read_transform(group, "weight_transform_in", d, at);
  w.out = read_transform(group, "weight_transform_out", m, at);
  w.row_scale = read_values<float>(group, "weight_row_scale", DType::f32, m, at);
  QAT_CHECK(w.row_scale.empty() || w.out.kind != WeightTransform::Kind::none, at,
            ": weight_row_scale without weight_transform_out (a batch norm folds into the scales then)");
}

}  // namespace qat
