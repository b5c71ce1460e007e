#include "engine/atomic_file.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "engine/error.h"

namespace qat {

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  commit_atomically(path, temporary, [&] {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    QAT_CHECK(out.good(), path, ": cannot create ", temporary);
    out << content;
    out.flush();
    QAT_CHECK(out.good(), path, ": writing ", temporary, " failed (disk full?)");
    out.close();
    QAT_CHECK(!out.fail(), path, ": closing ", temporary, " failed (disk full?)");
  });
}

void commit_atomically(const std::string& path, const std::string& temporary,
                       const std::function<void()>& write) {
  std::error_code ignored;
  try {
    write();
  } catch (...) {
    std::filesystem::remove(temporary, ignored);
    throw;
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, ignored);
    detail::fail(path, ": cannot replace it with ", temporary, " (", error.message(), ")");
  }
}

}  // namespace qat
