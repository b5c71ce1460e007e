#include "datasets/fashion_mnist.h"

#include <zlib.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/error.h"

namespace qat {
namespace {

// Reads a whole gzip file; a truncated or corrupt stream is an error naming the file.
std::vector<uint8_t> read_gzip(const std::string& path) {
  QAT_CHECK(std::filesystem::exists(path), path,
            ": no such file (install the Debian package dataset-fashion-mnist)");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  QAT_CHECK(file != nullptr, path, ": cannot open");
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> chunk;
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), chunk.size());
    int code = Z_OK;
    const char* message = gzerror(file.get(), &code);
    QAT_CHECK(n >= 0 && code == Z_OK, path, ": corrupt gzip data (", message, ")");
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  return bytes;
}

uint32_t big_endian(const std::vector<uint8_t>& bytes, size_t at) {
  return uint32_t{bytes[at]} << 24 | uint32_t{bytes[at + 1]} << 16 | uint32_t{bytes[at + 2]} << 8 |
         bytes[at + 3];
}

// Parses an IDX file of unsigned bytes with `rank` dimensions; returns the dims, checks the payload size.
std::vector<uint32_t> idx_header(const std::vector<uint8_t>& bytes, int rank, const std::string& path) {
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  QAT_CHECK(bytes.size() >= header, path, ": truncated IDX header");
  const uint32_t magic = big_endian(bytes, 0);
  QAT_CHECK(magic == 0x0800u + static_cast<uint32_t>(rank), path, ": bad IDX magic number 0x", std::hex,
            magic, " (expected unsigned-byte data with ", std::dec, rank, " dims)");
  std::vector<uint32_t> dims;
  size_t payload = 1;
  for (int d = 0; d < rank; ++d) {
    dims.push_back(big_endian(bytes, 4 + 4 * d));
    payload *= dims.back();
  }
  QAT_CHECK(bytes.size() == header + payload, path, ": IDX payload has ", bytes.size() - header,
            " bytes, the header promises ", payload, " (truncated file?)");
  return dims;
}

}  // namespace

ImageDataset load_fashion_mnist(const std::string& split, const std::string& dir) {
  QAT_CHECK(split == "train" || split == "test", "fashion-mnist: unknown split '", split,
            "' (train or test)");
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string image_path = prefix + "-images-idx3-ubyte.gz",
                    label_path = prefix + "-labels-idx1-ubyte.gz";
  const std::vector<uint8_t> image_bytes = read_gzip(image_path), label_bytes = read_gzip(label_path);
  const std::vector<uint32_t> image_dims = idx_header(image_bytes, 3, image_path);
  const std::vector<uint32_t> label_dims = idx_header(label_bytes, 1, label_path);
  QAT_CHECK(image_dims[0] == label_dims[0], image_path, ": ", image_dims[0], " images but ", label_path,
            " has ", label_dims[0], " labels");
  ImageDataset data;
  data.name = "fashion_mnist/" + split;
  data.num_classes = 10;
  const int64_t n = image_dims[0], h = image_dims[1], w = image_dims[2];
  data.images = Tensor::empty({n, 1, h, w}, DType::u8);
  std::memcpy(data.images.raw(), image_bytes.data() + 16, static_cast<size_t>(n * h * w));
  data.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    data.labels[i] = label_bytes[8 + i];
    QAT_CHECK(data.labels[i] < data.num_classes, label_path, ": label ", data.labels[i], " of example ", i,
              " is out of range 0..9");
  }
  return data;
}

}  // namespace qat
