#include "trainers/metrics_log.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace qat {

void MetricsLog::append(const std::string& json_object) const {
  if (path_.empty()) return;
  std::ofstream out(path_, std::ios::app);
  QAT_CHECK(out.good(), "metrics log ", path_, ": cannot open for appending");
  out << json_object << '\n';
  out.flush();
}

void MetricsLog::truncate_from_epoch(int epoch) const {
  if (path_.empty() || !std::filesystem::exists(path_)) return;
  std::ifstream in(path_);
  std::vector<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("\"epoch\": ");
    const int line_epoch = at == std::string::npos ? -1 : std::stoi(line.substr(at + 9));
    if (line_epoch < epoch) kept.push_back(line);
  }
  std::string content;
  for (const std::string& line : kept) content += line + '\n';
  write_file_atomically(path_, content);
}

}  // namespace qat
