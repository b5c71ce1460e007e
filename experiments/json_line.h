#pragma once
// JsonLine: builds the one-line JSON result every `qat` command prints last.
#include <string>

namespace qat {

/// An ordered flat JSON object written as one line.
class JsonLine {
 public:
  /// Adds a string field (escaped).
  JsonLine& add(const std::string& key, const std::string& value);
  /// Adds a string field.
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  /// Adds a number field (finite values with 6 significant digits; non-finite as null).
  JsonLine& add(const std::string& key, double value);
  /// Adds an integer field.
  JsonLine& add(const std::string& key, int64_t value);
  /// Adds a field whose value is already JSON (an array or object).
  JsonLine& add_raw(const std::string& key, const std::string& json);
  /// "{...}".
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& name);
  std::string body_;
};

/// `text` as a quoted, escaped JSON string.
std::string json_quote(const std::string& text);

}  // namespace qat
