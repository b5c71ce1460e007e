#include "quant/export/bit_packing.h"

#include "engine/error.h"

namespace qat {
namespace {

void check_bits(int bits) { QAT_CHECK(bits >= 1 && bits <= 8, "bit packing: ", bits, " bits is not in 1…8"); }

}  // namespace

int64_t packed_size(int64_t count, int bits) { return (count * bits + 7) / 8; }

std::vector<uint8_t> pack_bits(const std::vector<uint8_t>& values, int bits) {
  check_bits(bits);
  const auto count = static_cast<int64_t>(values.size());
  std::vector<uint8_t> bytes(packed_size(count, bits), 0);
  for (int64_t i = 0; i < count; ++i) {
    QAT_CHECK(values[i] >> bits == 0, "bit packing: value ", i, " (", int{values[i]}, ") needs more than ",
              bits, " bits");
    const int64_t first = i * bits;
    // A value spans at most two bytes (bits ≤ 8): its low part at the end of one, its high part at the
    // start of the next.
    const uint32_t shifted = static_cast<uint32_t>(values[i]) << (first % 8);
    bytes[first / 8] |= static_cast<uint8_t>(shifted);
    if (shifted >> 8) bytes[first / 8 + 1] |= static_cast<uint8_t>(shifted >> 8);
  }
  return bytes;
}

std::vector<uint8_t> unpack_bits(const std::vector<uint8_t>& bytes, int64_t count, int bits) {
  check_bits(bits);
  QAT_CHECK(static_cast<int64_t>(bytes.size()) == packed_size(count, bits), "bit packing: ", bytes.size(),
            " bytes for ", count, " values of ", bits, " bits (expected ", packed_size(count, bits), ")");
  const uint32_t mask = (1u << bits) - 1;
  std::vector<uint8_t> values(count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t first = i * bits, byte = first / 8;
    uint32_t window = bytes[byte];
    if (byte + 1 < static_cast<int64_t>(bytes.size())) window |= static_cast<uint32_t>(bytes[byte + 1]) << 8;
    values[i] = static_cast<uint8_t>((window >> (first % 8)) & mask);
  }
  return values;
}

}  // namespace qat
