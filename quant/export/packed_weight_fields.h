#pragma once
// The post-training fields of a quantized-weight record in the packed file (format_version 2): code
// layout, groups, BAQ's column levels and row ranges, column scales, orthogonal transforms and the row scales
// of a batch norm after an output transform.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "quant/export/quantized_weight.h"

namespace qat {

/// Bytes of a record's packed weight codes (from its shape, bits and levels).
int64_t packed_code_bytes(const QuantizedWeight& w);

/// The codes as stored: (code − qmin)/code_stride at `bits` bits, LSB first; with levels, column after
/// column, each at ⌈log2 n_j⌉ bits from a fresh byte.
std::vector<uint8_t> pack_weight_codes(const QuantizedWeight& w);

/// The codes of `w` (its shape, qmin, qmax, bits, code_stride and levels already read) from `bytes`.
std::vector<int64_t> unpack_weight_codes(const std::vector<uint8_t>& bytes, const QuantizedWeight& w,
                                         const std::string& at);

/// Entries of scale and zero_point the record needs: 1 or out per row, out·⌈in/g⌉ with groups, 0 with levels.
bool valid_scale_count(const QuantizedWeight& w, int64_t count);

/// Writes the fields into a layer's group (nothing beyond two attributes for a plain record).
void write_ptq_fields(hid_t group, const QuantizedWeight& w, const std::string& at);

/// Reads them into `w` (whose shape is read) and checks them against its shape; errors name `at`.
void read_ptq_fields(hid_t group, QuantizedWeight& w, const std::string& at);

}  // namespace qat
