#include "datasets/idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "engine/error.h"

namespace qat {
namespace {

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

// Reads up to `size` bytes; fewer only at the end of the stream. A corrupt stream names the file.
size_t read_bytes(gzFile file, uint8_t* out, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const auto chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    const int n = gzread(file, out + done, chunk);
    int code = Z_OK;
    const char* message = gzerror(file, &code);
    QAT_CHECK(n >= 0 && code == Z_OK, path, ": corrupt gzip data (", message, ")");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

uint32_t big_endian(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

// The dimensions a header declares; their product is checked against kMaxIdxBytes as it grows, so it
// cannot overflow.
std::vector<int64_t> header_dims(const std::vector<uint8_t>& header, int rank, const std::string& path) {
  const uint32_t magic = big_endian(header.data());
  QAT_CHECK(magic == 0x0800u + static_cast<uint32_t>(rank), path, ": bad IDX magic number 0x", std::hex,
            magic, " (expected unsigned-byte data with ", std::dec, rank, " dims)");
  std::vector<int64_t> dims;
  int64_t payload = 1;
  for (std::ptrdiff_t d = 0; d < rank; ++d) {
    dims.push_back(big_endian(header.data() + 4 + 4 * d));
    QAT_CHECK(dims.back() > 0, path, ": IDX dimension ", d, " is 0");
    QAT_CHECK(dims.back() <= kMaxIdxBytes / payload, path, ": IDX header declares more than ", kMaxIdxBytes,
              " bytes (dimension ", d, " is ", dims.back(), "): corrupt header?");
    payload *= dims.back();
  }
  return dims;
}

}  // namespace

IdxArray read_idx(const std::string& path, int rank) {
  QAT_CHECK(std::filesystem::is_regular_file(path), path, ": no such file");
  GzFile file(gzopen(path.c_str(), "rb"), gzclose);
  QAT_CHECK(file != nullptr, path, ": cannot open");
  std::vector<uint8_t> header(4 + 4 * static_cast<size_t>(rank));
  QAT_CHECK(read_bytes(file.get(), header.data(), header.size(), path) == header.size(), path,
            ": truncated IDX header");
  IdxArray array;
  array.dims = header_dims(header, rank, path);
  int64_t payload = 1;
  for (const int64_t d : array.dims) payload *= d;
  // Grown as the bytes arrive, so a header that promises more than the file holds allocates no more
  // than the file's own size.
  constexpr size_t kChunk = size_t{1} << 20;
  size_t got = 0;
  while (got < static_cast<size_t>(payload)) {
    const size_t want = std::min(kChunk, static_cast<size_t>(payload) - got);
    array.data.resize(got + want);
    const size_t n = read_bytes(file.get(), array.data.data() + got, want, path);
    got += n;
    if (n < want) break;
  }
  array.data.resize(got);
  QAT_CHECK(got == static_cast<size_t>(payload), path, ": IDX payload has ", got,
            " bytes, the header promises ", payload, " (truncated file?)");
  uint8_t extra = 0;
  QAT_CHECK(read_bytes(file.get(), &extra, 1, path) == 0, path, ": IDX payload is longer than the ", payload,
            " bytes the header promises");
  return array;
}

}  // namespace qat
