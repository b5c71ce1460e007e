#include "engine/atomic_file.h"

#include <filesystem>
#include <fstream>

#include "engine/error.h"

namespace qat {

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    QAT_CHECK(out.good(), path, ": cannot create ", temporary);
    out << content;
    out.flush();
    QAT_CHECK(out.good(), path, ": writing ", temporary, " failed");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace qat
