#pragma once
// IDX files of unsigned bytes (the MNIST family's format), plain or gzip-compressed.
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

/// An IDX array: its dimensions and its bytes in row-major order.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

/// Largest payload an IDX file may declare (1 GiB): a header promising more is rejected before anything
/// is allocated.
inline constexpr int64_t kMaxIdxBytes = int64_t{1} << 30;

/// Reads an IDX file of unsigned bytes with `rank` dimensions (gzip or plain). The header is validated
/// before the payload is allocated; errors name the file: missing, corrupt gzip, bad magic number, a
/// zero or oversized dimension, a payload shorter or longer than the header promises.
IdxArray read_idx(const std::string& path, int rank);

}  // namespace qat
