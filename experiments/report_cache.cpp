#include "experiments/report_cache.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace qat {

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QAT_CHECK(in.good(), path, ": cannot open");
  uint64_t hash = 14695981039346656037ull;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash ^= static_cast<unsigned char>(buffer[i]);
      hash *= 1099511628211ull;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

nlohmann::json ReportCache::get(const std::string& checkpoint, const std::string& variant,
                                const std::function<nlohmann::json()>& measure) const {
  const std::filesystem::path entry =
      std::filesystem::path(dir_) / (file_hash(checkpoint) + "-" + variant + ".json");
  if (std::filesystem::exists(entry)) {
    std::ifstream in(entry);
    nlohmann::json cached = nlohmann::json::parse(in, nullptr, false);
    if (!cached.is_discarded()) return cached;
  }
  nlohmann::json measured = measure();
  std::filesystem::create_directories(dir_);
  write_file_atomically(entry.string(), measured.dump() + "\n");
  return measured;
}

}  // namespace qat
