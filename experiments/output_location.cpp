#include "experiments/output_location.h"

#include <filesystem>
#include <system_error>

#include "engine/error.h"

namespace qat {

namespace fs = std::filesystem;

void prepare_output_directory(const std::string& dir, const std::vector<std::string>& products,
                              OutputMode mode, const std::string& resume_from) {
  QAT_CHECK(!(mode.resume && mode.overwrite), "--resume and --overwrite exclude each other");
  std::error_code error;
  QAT_CHECK(!fs::exists(dir, error) || fs::is_directory(dir, error), "--out ", dir,
            ": exists and is not a directory");
  std::string found;
  for (const std::string& name : products)
    if (fs::exists(fs::path(dir) / name, error)) found += (found.empty() ? "" : ", ") + name;
  if (mode.resume) {
    QAT_CHECK(!resume_from.empty() && fs::exists(fs::path(dir) / resume_from, error), "--resume: ", dir,
              " has no ", resume_from.empty() ? "run" : resume_from, " to resume",
              found.empty() ? "" : " (it holds " + found + ")", "; start without --resume");
  } else if (!found.empty()) {
    QAT_CHECK(mode.overwrite, "--out ", dir, ": holds the results of an earlier run (", found,
              "); add --resume to continue it or --overwrite to replace it");
    for (const std::string& name : products) fs::remove(fs::path(dir) / name, error);
  }
  fs::create_directories(dir, error);
  QAT_CHECK(!error, "--out ", dir, ": cannot create directory (", error.message(), ")");
}

void check_output_file(const std::string& path, bool overwrite) {
  std::error_code error;
  QAT_CHECK(!fs::is_directory(path, error), "--out ", path, ": is a directory, expected a file name");
  const fs::path parent = fs::path(path).parent_path();
  QAT_CHECK(parent.empty() || fs::is_directory(parent, error), "--out ", path, ": directory ",
            parent.string(), " does not exist");
  QAT_CHECK(overwrite || !fs::exists(path, error), "--out ", path, ": exists; add --overwrite to replace it");
}

}  // namespace qat
