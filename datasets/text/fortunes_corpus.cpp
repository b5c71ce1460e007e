#include "datasets/text/fortunes_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace qat {
namespace {

namespace fs = std::filesystem;

bool is_text_file(const fs::directory_entry& entry) {
  const std::string ext = entry.path().extension().string();
  return entry.is_regular_file() && ext != ".dat" && ext != ".u8";
}

}  // namespace

std::vector<std::string> load_fortunes(const std::string& dir) {
  std::vector<std::string> documents;
  if (!fs::is_directory(dir)) return documents;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (is_text_file(entry)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    std::ifstream in(path);
    std::string current;
    for (std::string line; std::getline(in, line);) {
      if (line == "%") {
        if (!current.empty()) documents.push_back(current);
        current.clear();
        continue;
      }
      current += (current.empty() ? "" : " ") + line;
    }
    if (!current.empty()) documents.push_back(current);
  }
  return documents;
}

}  // namespace qat
