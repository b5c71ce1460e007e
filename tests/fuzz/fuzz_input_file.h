#pragma once
// The fuzz input as a file for readers that take a path: /dev/shm/qat_fuzz_<pid> (tmpfs: memory, not
// disk), rewritten for every input and removed afterwards. (HDF5 cannot open a memfd through
// /proc/self/fd/N, so an anonymous file does not do.)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace qat::fuzz {

/// Owns the file holding one input.
class InputFile {
 public:
  InputFile(const uint8_t* data, size_t size) : path_("/dev/shm/qat_fuzz_" + std::to_string(getpid())) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ~InputFile() { std::remove(path_.c_str()); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  /// The file's path.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace qat::fuzz
