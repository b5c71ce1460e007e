#include "experiments/gnuplot_svg.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/atomic_file.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The <svg> element alone, without namespace attributes (an inline svg in HTML needs none) and without
// gnuplot's <title> of the whole drawing.
std::string inline_svg(const std::string& svg) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) return "";
  std::string element = svg.substr(start);
  element = std::regex_replace(element, std::regex(R"(\s+xmlns(:\w+)?="[^"]*")"), "");
  element = std::regex_replace(element, std::regex("<title>Gnuplot</title>"), "");
  return "<svg class=\"plot\"" + element.substr(4);
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\n') continue;
    quoted += c == '\'' ? std::string("''") : std::string(1, c);
  }
  return quoted + "'";
}

std::string GnuplotSvg::data_file(const std::string& name, const std::string& content) const {
  fs::create_directories(dir_);
  std::string path = (fs::path(dir_) / name).string();
  write_file_atomically(path, content);
  return path;
}

std::string GnuplotSvg::render(const std::string& name, const std::string& script, int width, int height,
                               std::string& error) const {
  const fs::path svg = fs::path(dir_) / (name + ".svg"), log = fs::path(dir_) / (name + ".log");
  std::ostringstream full;
  full << "set terminal svg size " << width << "," << height
       << " noenhanced font 'sans,11' background '#ffffff'\nset output " << gnuplot_quote(svg.string())
       << "\n"
       << script << "\nset output\n";
  const std::string path = data_file(name + ".gp", full.str());
  fs::remove(svg);
  const std::string command = "gnuplot '" + path + "' >'" + log.string() + "' 2>&1";
  if (std::system(command.c_str()) != 0 || !fs::exists(svg)) {
    error = name + ": gnuplot failed: " + read_text(log);
    return "";
  }
  return inline_svg(read_text(svg));
}

}  // namespace qat
