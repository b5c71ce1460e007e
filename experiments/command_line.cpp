#include "experiments/command_line.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/parse_number.h"

namespace qat {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "--a VALUE, --b, …" for an error message.
std::string known_options(const std::vector<std::string>& valued, const std::vector<std::string>& flags) {
  std::string out = "--set field.path=value";
  for (const std::string& n : valued) out += ", --" + n + " VALUE";
  for (const std::string& n : flags) out += ", --" + n;
  return out;
}

}  // namespace

CommandLine CommandLine::parse(int argc, char** argv, int first, const std::vector<std::string>& valued,
                               const std::vector<std::string>& flags) {
  CommandLine line;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      line.positional.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(2);
    if (contains(flags, name)) {
      line.options[name] = "true";
      continue;
    }
    QAT_CHECK(name == "set" || contains(valued, name), "unknown option ", arg,
              " (known: ", known_options(valued, flags), ")");
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

int64_t CommandLine::get_int(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  const int64_t value = parse_int(it->second, "--" + name);
  QAT_CHECK(value >= min && value <= max, "--", name, ": ", value, " outside ", min, "..", max);
  return value;
}

}  // namespace qat
