#pragma once
// CommandLine: the arguments of one `qat` subcommand — positionals, repeatable --set, and --flag value.
#include <map>
#include <string>
#include <vector>

namespace qat {

/// Parsed arguments after the subcommand name.
struct CommandLine {
  std::vector<std::string> positional;
  std::vector<std::string> overrides;          ///< every --set value, in order
  std::map<std::string, std::string> options;  ///< --name value (last wins)

  /// Parses argv[first..argc); `flags` lists the --names that take no value.
  static CommandLine parse(int argc, char** argv, int first, const std::vector<std::string>& flags = {});
  /// The option's value or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// True when --name was given.
  bool has(const std::string& name) const { return options.count(name) > 0; }
};

}  // namespace qat
