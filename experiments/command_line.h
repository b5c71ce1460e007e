#pragma once
// CommandLine: the arguments of one `qat` subcommand — positionals, repeatable --set, and --flag value.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace qat {

/// Parsed arguments after the subcommand name.
struct CommandLine {
  std::vector<std::string> positional;
  std::vector<std::string> overrides;          ///< every --set value, in order
  std::map<std::string, std::string> options;  ///< --name value (last wins)

  /// Parses argv[first..argc): --set and the `valued` --names take a value, the `flags` none; any other
  /// --name is an error that lists the known ones.
  static CommandLine parse(int argc, char** argv, int first, const std::vector<std::string>& valued,
                           const std::vector<std::string>& flags = {});
  /// The option's value or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// The option's value as an integer in [min, max], or `fallback`; errors name the option.
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min = 1,
                  int64_t max = std::numeric_limits<int64_t>::max()) const;
  /// True when --name was given.
  bool has(const std::string& name) const { return options.count(name) > 0; }
};

}  // namespace qat
