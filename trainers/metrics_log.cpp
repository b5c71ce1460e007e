#include "trainers/metrics_log.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/parse_number.h"

namespace qat {

void MetricsLog::append(const std::string& json_object) const {
  if (path_.empty()) return;
  std::ofstream out(path_, std::ios::app);
  QAT_CHECK(out.good(), "metrics log ", path_, ": cannot open for appending");
  out << json_object << '\n';
  out.flush();
  QAT_CHECK(out.good(), "metrics log ", path_, ": writing failed (disk full?)");
}

void MetricsLog::truncate_from_epoch(int epoch) const {
  if (path_.empty() || !std::filesystem::exists(path_)) return;
  std::ifstream in(path_);
  std::vector<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.back() != '}') continue;  // cut short by a kill: its epoch is redone anyway
    const size_t at = line.find("\"epoch\": ");
    const size_t end = at == std::string::npos ? at : line.find_first_of(",}", at);
    const int64_t line_epoch =
        at == std::string::npos ? -1 : parse_int(line.substr(at + 9, end - at - 9), "metrics log " + path_);
    if (line_epoch < epoch) kept.push_back(line);
  }
  std::string content;
  for (const std::string& line : kept) content += line + '\n';
  write_file_atomically(path_, content);
}

}  // namespace qat
