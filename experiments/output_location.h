#pragma once
// Where a command writes: `--out DIR` of train and ptq, `--out FILE` of export. Work is never overwritten
// or mixed: an existing result is refused unless the command resumes it or --overwrite replaces it.
#include <string>
#include <vector>

namespace qat {

/// What a command may do with results already at its output.
struct OutputMode {
  bool resume = false;     ///< continue the run found there (train --resume)
  bool overwrite = false;  ///< replace what is there (--overwrite)
};

/// Prepares `--out DIR` for a command that writes the files `products` into it: refuses a path that is
/// not a directory, or whose directory cannot be created; refuses a directory holding any of `products`
/// unless `mode` resumes or overwrites (overwriting removes them first); with `mode.resume`, requires
/// `resume_from` ("" = none) to be there. Errors name the flag, the path and the files found.
void prepare_output_directory(const std::string& dir, const std::vector<std::string>& products,
                              OutputMode mode, const std::string& resume_from = "");
/// Checks `--out FILE`: not a directory, its directory exists, and no file there unless `overwrite`.
void check_output_file(const std::string& path, bool overwrite);

}  // namespace qat
