#pragma once
// Dense bit packing of unsigned integer codes: `bits` bits per value, LSB first, values straddling byte
// boundaries, so n values of b bits take exactly ⌈n·b/8⌉ bytes.
#include <cstdint>
#include <vector>

namespace qat {

/// Bytes that `count` values of `bits` bits take.
int64_t packed_size(int64_t count, int bits);
/// Packs `values` (each < 2^bits, 1 ≤ bits ≤ 8): value i occupies bits [i·bits, (i+1)·bits) of the
/// stream, bit j of the stream being bit j % 8 of byte j / 8.
std::vector<uint8_t> pack_bits(const std::vector<uint8_t>& values, int bits);
/// The `count` values packed in `bytes` (which must hold packed_size(count, bits) bytes).
std::vector<uint8_t> unpack_bits(const std::vector<uint8_t>& bytes, int64_t count, int bits);

}  // namespace qat
