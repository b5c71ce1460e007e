#pragma once
// The packed model file: HDF5 readable by h5py and any HDF5 tool. Root attributes format ("qat-packed"),
// format_version and config (the experiment config text); one group /layers/<path> per layer with
// attributes (index, kind, geometry, bits, qmin, qmax, numel, relu, batch_norm, input grid) and datasets
// weight_codes (u8, codes − qmin packed LSB first at `bits` bits each), weight_shape (s32), weight_scale
// (f32), weight_zero_point (s32) and bias (f32, absent when the layer has none); format_version 2 adds the
// post-training fields of packed_weight_fields.h.
#include <cstdint>
#include <string>

#include "quant/export/packed_model.h"

namespace qat {

/// Writes `model` to `path` through a temporary file and a rename; returns the file size in bytes.
int64_t save_packed(const PackedModel& model, const std::string& path);
/// Reads and validates a packed file; errors name the file, the layer and the field.
PackedModel load_packed(const std::string& path);
/// True when `path` is an HDF5 file with format attribute "qat-packed".
bool is_packed_file(const std::string& path);
/// Bytes of a layer's packed weight codes.
int64_t payload_bytes(const PackedLayer& layer);
/// Bytes of all packed weight codes of a model.
int64_t payload_bytes(const PackedModel& model);
/// Bytes of the datasets save_packed writes for one weight record (HDF5 overhead and QuIP's transforms
/// aside): the packed codes plus 4 bytes per element of weight_shape, weight_scale, weight_zero_point, bias,
/// weight_levels, weight_row_lo, weight_row_hi and weight_col_scale. The size mixed-precision budgets count.
int64_t stored_bytes(const QuantizedWeight& w);

}  // namespace qat
