#pragma once
// GnuplotSvg: runs a gnuplot script on the svg terminal and returns the drawing ready to inline in an
// HTML page (no XML prolog, no namespace URLs, class "plot").
#include <string>

namespace qat {

/// Draws plots with gnuplot into a working directory that holds their data and script files.
class GnuplotSvg {
 public:
  explicit GnuplotSvg(std::string work_dir) : dir_(std::move(work_dir)) {}
  /// Writes `name`.gp (the svg terminal at width × height, then `script`), runs gnuplot and returns the
  /// inline svg element; "" when gnuplot is missing or fails (its message goes to `error`).
  std::string render(const std::string& name, const std::string& script, int width, int height,
                     std::string& error) const;
  /// Writes a data file next to the scripts; returns its path for the script to read.
  std::string data_file(const std::string& name, const std::string& content) const;

 private:
  std::string dir_;
};

/// `text` as a single-quoted gnuplot string (quotes doubled).
std::string gnuplot_quote(const std::string& text);

}  // namespace qat
