#include "experiments/command_line.h"

#include <algorithm>

#include "engine/error.h"

namespace qat {

CommandLine CommandLine::parse(int argc, char** argv, int first, const std::vector<std::string>& flags) {
  CommandLine line;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      line.positional.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(2);
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      line.options[name] = "true";
      continue;
    }
    QAT_CHECK(i + 1 < argc, "option ", arg, " needs a value");
    const std::string value = argv[++i];
    if (name == "set")
      line.overrides.push_back(value);
    else
      line.options[name] = value;
  }
  return line;
}

std::string CommandLine::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

}  // namespace qat
