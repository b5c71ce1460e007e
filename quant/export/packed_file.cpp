#include "quant/export/packed_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/error.h"
#include "engine/hdf5_file.h"
#include "quant/export/packed_weight_fields.h"

namespace qat {
namespace {

using hdf5::Handle;

constexpr const char* kFormat = "qat-packed";

template <typename T>
Tensor vector_tensor(const std::vector<T>& values, DType dtype) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, dtype);
  if (dtype == DType::f32)
    std::copy(values.begin(), values.end(), t.data<float>());
  else if (dtype == DType::s32)
    std::transform(values.begin(), values.end(), t.data<int32_t>(),
                   [](T v) { return static_cast<int32_t>(v); });
  else
    std::copy(values.begin(), values.end(), t.data<uint8_t>());
  return t;
}

const char* kind_name(PackedKind kind) { return kind == PackedKind::conv2d ? "conv2d" : "linear"; }

void write_input_grid(hid_t group, const std::optional<InputGrid>& grid) {
  hdf5::write_int_attribute(group, "input_quantized", grid.has_value());
  if (!grid) return;
  hdf5::write_float_attribute(group, "input_scale", grid->scale);
  hdf5::write_int_attribute(group, "input_zero_point", grid->zero_point);
  hdf5::write_int_attribute(group, "input_qmin", grid->qmin);
  hdf5::write_int_attribute(group, "input_qmax", grid->qmax);
  hdf5::write_int_attribute(group, "input_bits", grid->bits);
  hdf5::write_int_attribute(group, "input_signed", grid->is_signed);
}

void write_layer(hid_t layers, const PackedLayer& l, int64_t index, const std::string& where) {
  Handle group(H5Gcreate2(layers, l.path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  QAT_CHECK(group.valid(), where, ": cannot create group for layer '", l.path, "'");
  const hid_t g = group.get();
  const QuantizedWeight& w = l.weight;
  hdf5::write_int_attribute(g, "index", index);
  hdf5::write_string_attribute(g, "kind", kind_name(l.kind));
  for (const auto& [name, value] : {std::pair{"stride", l.stride},
                                    {"padding", l.padding},
                                    {"dilation", l.dilation},
                                    {"groups", l.groups}})
    hdf5::write_int_attribute(g, name, value);
  hdf5::write_int_attribute(g, "bits", w.bits);
  hdf5::write_int_attribute(g, "qmin", w.qmin);
  hdf5::write_int_attribute(g, "qmax", w.qmax);
  hdf5::write_int_attribute(g, "numel", static_cast<int64_t>(w.codes.size()));
  hdf5::write_int_attribute(g, "relu", l.relu);
  hdf5::write_string_attribute(g, "batch_norm", l.batch_norm);
  write_input_grid(g, l.input);
  const std::string at = where + ": layer '" + l.path + "'";
  hdf5::write_tensor(g, "weight_codes", vector_tensor(pack_weight_codes(w), DType::u8), at);
  hdf5::write_tensor(g, "weight_shape", vector_tensor(w.shape, DType::s32), at);
  if (w.levels.empty()) {
    hdf5::write_tensor(g, "weight_scale", vector_tensor(w.scale, DType::f32), at);
    hdf5::write_tensor(g, "weight_zero_point", vector_tensor(w.zero_point, DType::s32), at);
  }
  if (!w.bias.empty()) hdf5::write_tensor(g, "bias", vector_tensor(w.bias, DType::f32), at);
  write_ptq_fields(g, w, at);
}

// A dataset read as one dimension of `dtype` with `expected` elements (any count when negative).
Tensor read_vector(hid_t group, const std::string& name, DType dtype, int64_t expected,
                   const std::string& at) {
  QAT_CHECK(H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0, at, ": missing dataset '", name, "'");
  Tensor t = hdf5::read_tensor(group, name, at + ": dataset '" + name + "'");
  QAT_CHECK(t.ndim() == 1 && t.dtype() == dtype, at, ": dataset '", name, "' is ", t.str(), ", expected 1-D ",
            to_string(dtype));
  QAT_CHECK(expected < 0 || t.numel() == expected, at, ": dataset '", name, "' has ", t.numel(),
            " elements, expected ", expected);
  return t;
}

std::optional<InputGrid> read_input_grid(hid_t g, const std::string& at) {
  if (hdf5::read_int_attribute(g, "input_quantized", at) == 0) return std::nullopt;
  InputGrid grid{.scale = hdf5::read_float_attribute(g, "input_scale", at),
                 .zero_point = hdf5::read_int_attribute(g, "input_zero_point", at),
                 .qmin = hdf5::read_int_attribute(g, "input_qmin", at),
                 .qmax = hdf5::read_int_attribute(g, "input_qmax", at),
                 .bits = static_cast<int>(hdf5::read_int_attribute(g, "input_bits", at)),
                 .is_signed = hdf5::read_int_attribute(g, "input_signed", at) != 0};
  QAT_CHECK(grid.scale > 0 && std::isfinite(grid.scale), at, ": input_scale ", grid.scale,
            " is not positive");
  QAT_CHECK(
      grid.qmin < grid.qmax && grid.qmin >= -128 && grid.qmax <= 255 && (grid.qmin >= 0 || grid.qmax <= 127),
      at, ": input_qmin/input_qmax ", grid.qmin, "…", grid.qmax, " do not fit u8 or s8");
  QAT_CHECK(grid.qmin <= grid.zero_point && grid.zero_point <= grid.qmax, at, ": input_zero_point ",
            grid.zero_point, " is outside ", grid.qmin, "…", grid.qmax);
  return grid;
}

QuantizedWeight read_weight(hid_t g, const std::string& at) {
  QuantizedWeight w;
  w.bits = static_cast<int>(hdf5::read_int_attribute(g, "bits", at));
  QAT_CHECK(w.bits >= 1 && w.bits <= 8, at, ": bits ", w.bits, " out of range (1…8)");
  w.qmin = hdf5::read_int_attribute(g, "qmin", at);
  w.qmax = hdf5::read_int_attribute(g, "qmax", at);
  const int64_t numel = hdf5::read_int_attribute(g, "numel", at);
  const Tensor shape = read_vector(g, "weight_shape", DType::s32, -1, at);
  w.shape.assign(shape.data<int32_t>(), shape.data<int32_t>() + shape.numel());
  QAT_CHECK(!w.shape.empty() && qat::numel(w.shape) == numel && w.shape[0] > 0, at, ": weight_shape ",
            to_string(w.shape), " does not hold numel ", numel, " elements");
  read_ptq_fields(g, w, at);
  QAT_CHECK(w.qmin < w.qmax && (w.qmax - w.qmin) / w.code_stride < (int64_t{1} << w.bits), at, ": qmin/qmax ",
            w.qmin, "…", w.qmax, " do not fit ", w.bits, " bits at code stride ", w.code_stride);
  const Tensor packed = read_vector(g, "weight_codes", DType::u8, packed_code_bytes(w), at);
  w.codes = unpack_weight_codes(
      std::vector<uint8_t>(packed.data<uint8_t>(), packed.data<uint8_t>() + packed.numel()), w, at);
  if (w.levels.empty()) {
    const Tensor scale = read_vector(g, "weight_scale", DType::f32, -1, at);
    QAT_CHECK(valid_scale_count(w, scale.numel()), at, ": weight_scale has ", scale.numel(), " elements for ",
              w.out_channels(), " output channels and group size ", w.group_size);
    w.scale.assign(scale.data<float>(), scale.data<float>() + scale.numel());
    const Tensor zp = read_vector(g, "weight_zero_point", DType::s32, scale.numel(), at);
    w.zero_point.assign(zp.data<int32_t>(), zp.data<int32_t>() + zp.numel());
  }
  if (H5Lexists(g, "bias", H5P_DEFAULT) > 0) {
    const Tensor bias = read_vector(g, "bias", DType::f32, w.out_channels(), at);
    w.bias.assign(bias.data<float>(), bias.data<float>() + bias.numel());
  }
  return w;
}

PackedLayer read_layer(hid_t layers, const std::string& path, const std::string& where) {
  const std::string at = where + ": layer '" + path + "'";
  Handle group(H5Gopen2(layers, path.c_str(), H5P_DEFAULT), H5Gclose);
  QAT_CHECK(group.valid(), at, ": unreadable group");
  const hid_t g = group.get();
  PackedLayer l;
  l.path = path;
  const std::string kind = hdf5::read_string_attribute(g, "kind", at);
  QAT_CHECK(kind == "conv2d" || kind == "linear", at, ": kind '", kind, "' is not conv2d or linear");
  l.kind = kind == "conv2d" ? PackedKind::conv2d : PackedKind::linear;
  l.stride = hdf5::read_int_attribute(g, "stride", at);
  l.padding = hdf5::read_int_attribute(g, "padding", at);
  l.dilation = hdf5::read_int_attribute(g, "dilation", at);
  l.groups = hdf5::read_int_attribute(g, "groups", at);
  QAT_CHECK(l.stride >= 1 && l.padding >= 0 && l.dilation >= 1 && l.groups >= 1, at,
            ": invalid geometry (stride ", l.stride, ", padding ", l.padding, ", dilation ", l.dilation,
            ", groups ", l.groups, ")");
  l.relu = hdf5::read_int_attribute(g, "relu", at) != 0;
  l.batch_norm = hdf5::read_string_attribute(g, "batch_norm", at);
  l.input = read_input_grid(g, at);
  l.weight = read_weight(g, at);
  return l;
}

}  // namespace

int64_t payload_bytes(const PackedLayer& layer) { return packed_code_bytes(layer.weight); }

int64_t stored_bytes(const QuantizedWeight& w) {
  // Every dataset besides the codes is f32 or s32 (write_layer, write_ptq_fields).
  const size_t words = w.shape.size() + w.scale.size() * (w.levels.empty() ? 1 : 0) +
                       w.zero_point.size() * (w.levels.empty() ? 1 : 0) + w.bias.size() + w.levels.size() +
                       w.row_lo.size() + w.row_hi.size() + w.col_scale.size();
  return packed_code_bytes(w) + 4 * static_cast<int64_t>(words);
}

int64_t payload_bytes(const PackedModel& model) {
  int64_t bytes = 0;
  for (const PackedLayer& l : model.layers) bytes += payload_bytes(l);
  return bytes;
}

int64_t save_packed(const PackedModel& model, const std::string& path) {
  hdf5::Quiet quiet;
  const std::string where = "packed model " + path;
  const std::string temporary = path + ".tmp";
  try {
    Handle file(hdf5::create_file(temporary), H5Fclose);
    QAT_CHECK(file.valid(), where, ": cannot create ", temporary);
    Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    hdf5::write_string_attribute(root.get(), "format", kFormat);
    hdf5::write_int_attribute(root.get(), "format_version", kPackedFormatVersion);
    hdf5::write_string_attribute(root.get(), "config", model.config);
    Handle layers(H5Gcreate2(file.get(), "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    for (size_t i = 0; i < model.layers.size(); ++i)
      write_layer(layers.get(), model.layers[i], static_cast<int64_t>(i), where);
  } catch (const Error&) {
    std::filesystem::remove(temporary);
    throw;
  }
  std::filesystem::rename(temporary, path);
  return static_cast<int64_t>(std::filesystem::file_size(path));
}

bool is_packed_file(const std::string& path) {
  hdf5::Quiet quiet;
  if (!std::filesystem::exists(path) || H5Fis_hdf5(path.c_str()) <= 0) return false;
  Handle file(hdf5::open_file(path), H5Fclose);
  if (!file.valid() || !hdf5::has_attribute(file.get(), "format")) return false;
  try {
    return hdf5::read_string_attribute(file.get(), "format", path) == kFormat;
  } catch (const Error&) {
    return false;
  }
}

PackedModel load_packed(const std::string& path) {
  hdf5::Quiet quiet;
  const std::string where = "packed model " + path;
  QAT_CHECK(std::filesystem::exists(path), where, ": no such file");
  QAT_CHECK(H5Fis_hdf5(path.c_str()) > 0, where, ": not an HDF5 file, or truncated");
  Handle file(hdf5::open_file(path), H5Fclose);
  QAT_CHECK(file.valid(), where, ": cannot open (truncated or corrupt HDF5)");
  const std::string format = hdf5::read_string_attribute(file.get(), "format", where);
  QAT_CHECK(format == kFormat, where, ": format '", format, "' is not '", kFormat, "'");
  const int64_t version = hdf5::read_int_attribute(file.get(), "format_version", where);
  QAT_CHECK(version >= 1 && version <= kPackedFormatVersion, where, ": format_version ", version,
            " is not supported (this build reads 1…", kPackedFormatVersion, ")");
  PackedModel model{.config = hdf5::read_string_attribute(file.get(), "config", where), .layers = {}};
  Handle layers(H5Gopen2(file.get(), "layers", H5P_DEFAULT), H5Gclose);
  QAT_CHECK(layers.valid(), where, ": missing group 'layers'");
  std::vector<std::pair<int64_t, std::string>> order;
  for (const std::string& name : hdf5::member_names(layers.get())) {
    Handle group(H5Gopen2(layers.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
    QAT_CHECK(group.valid(), where, ": layer '", name, "': unreadable group");
    const std::string at = std::string(where).append(": layer '").append(name).append("'");
    order.emplace_back(hdf5::read_int_attribute(group.get(), "index", at), name);
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) {
    QAT_CHECK(order[i].first == static_cast<int64_t>(i), where, ": layer '", order[i].second, "': index ",
              order[i].first, " where ", i, " was expected");
    model.layers.push_back(read_layer(layers.get(), order[i].second, where));
  }
  QAT_CHECK(!model.layers.empty(), where, ": no layers");
  return model;
}

}  // namespace qat
