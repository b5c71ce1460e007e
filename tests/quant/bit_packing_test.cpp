// Bit packing of weight codes: round trips for 1–8 bits and odd lengths, the exact LSB-first layout
// (a 3-bit code straddles a byte boundary), exact sizes, and errors for values and sizes that do not fit.
#include "quant/export/bit_packing.h"

#include <gtest/gtest.h>

#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

TEST(BitPacking, RoundTripsEveryWidthAndOddLengths) {
  Generator gen(7);
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8})
    for (int64_t count : {0, 1, 2, 3, 5, 7, 8, 9, 13, 1001}) {
      std::vector<uint8_t> values(count);
      for (auto& v : values) v = static_cast<uint8_t>(gen.below(int64_t{1} << bits));
      const std::vector<uint8_t> packed = pack_bits(values, bits);
      ASSERT_EQ(static_cast<int64_t>(packed.size()), (count * bits + 7) / 8) << bits << " bits, " << count;
      EXPECT_EQ(unpack_bits(packed, count, bits), values) << bits << " bits, " << count;
    }
}

TEST(BitPacking, ThreeBitCodesAreDenseLsbFirst) {
  // 5 = 101, 6 = 110, 7 = 111 at bit offsets 0, 3, 6: byte 0 = 101 | 110 << 3 | (111 << 6) & 0xFF,
  // byte 1 = the top bit of the third code.
  EXPECT_EQ(pack_bits({5, 6, 7}, 3), (std::vector<uint8_t>{0b11110101, 0b00000001}));
  EXPECT_EQ(pack_bits({1, 2, 3, 0}, 2), (std::vector<uint8_t>{0b00111001}));
  EXPECT_EQ(pack_bits({0xA, 0x5, 0xF}, 4), (std::vector<uint8_t>{0x5A, 0x0F}));
}

TEST(BitPacking, ValuesAndSizesThatDoNotFitAreErrors) {
  EXPECT_NE(test::error_of([] {
              pack_bits({3, 4}, 2);
            }).find("value 1 (4) needs more than 2 bits"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              unpack_bits({1, 2}, 9, 3);
            }).find("2 bytes for 9 values of 3 bits (expected 4)"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { pack_bits({1}, 9); }).find("9 bits is not in 1…8"), std::string::npos);
}

}  // namespace
}  // namespace qat
