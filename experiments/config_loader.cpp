#include "experiments/config_loader.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/stubs/strutil.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "experiments/config_validation.h"

namespace qat {
namespace {

namespace pb = google::protobuf;

// Collects the parser's first error with its position (protobuf counts lines and columns from 0).
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (message_.empty())
      message_ =
          "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

std::string read_file(const std::string& path) {
  std::error_code error;
  QAT_CHECK(std::filesystem::exists(path, error), "config ", path, ": no such file");
  QAT_CHECK(!std::filesystem::is_directory(path, error), "config ", path,
            ": is a directory, not a config file");
  std::ifstream in(path);
  QAT_CHECK(in.good(), "config ", path, ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  QAT_CHECK(!in.bad(), "config ", path, ": cannot read file");
  return text.str();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

// v as a text-format string literal. Built by appends: GCC 12 warns (-Wstringop-overflow, a false
// positive) on "\"" + std::string&& here.
std::string quoted(const std::string& v) {
  std::string out(1, '"');
  out += pb::CEscape(v);
  out += '"';
  return out;
}

}  // namespace

config::Experiment parse_experiment(const std::string& text, const std::string& source) {
  config::Experiment experiment;
  FirstError errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  QAT_CHECK(parser.ParseFromString(text, &experiment), "config ", source, ": ", errors.message());
  return experiment;
}

void load_text_message(const std::string& path, google::protobuf::Message& message) {
  FirstError errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  QAT_CHECK(parser.ParseFromString(read_file(path), &message), path, ": ", errors.message());
}

config::Experiment load_experiment(const std::string& path) {
  config::Experiment experiment = parse_experiment(read_file(path), path);
  // An empty file (or one of comments only) is far more likely a mistake than a wish for every default.
  QAT_CHECK(experiment.ByteSizeLong() > 0, "config ", path, ": sets no field (empty config?)");
  return experiment;
}

void apply_override(config::Experiment& experiment, const std::string& assignment) {
  // The error below names the path; protobuf's own log line about the same value would be a second one.
  const pb::LogSilencer silence;
  const size_t eq = assignment.find('=');
  QAT_CHECK(eq != std::string::npos && eq > 0, "--set ", assignment, ": expected field.path=value");
  const std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  pb::Message* message = &experiment;
  const std::vector<std::string> names = split(path, '.');
  for (size_t i = 0; i < names.size(); ++i) {
    const pb::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(names[i]);
    QAT_CHECK(field != nullptr, "--set ", path, ": ", message->GetDescriptor()->full_name(),
              " has no field '", names[i], "'");
    const bool last = i + 1 == names.size();
    if (!last) {
      QAT_CHECK(field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated(), "--set ",
                path, ": '", names[i], "' is not a message field");
      message = message->GetReflection()->MutableMessage(message, field);
      continue;
    }
    if (field->is_repeated()) message->GetReflection()->ClearField(message, field);
    const std::vector<std::string> values = field->is_repeated() ? split(value, ',') : std::vector{value};
    for (const std::string& v : values) {
      // Strings may be given bare on the command line; text format wants them quoted.
      const bool bare = field->type() == pb::FieldDescriptor::TYPE_STRING && (v.empty() || v.front() != '"');
      QAT_CHECK(pb::TextFormat::ParseFieldValueFromString(bare ? quoted(v) : v, field, message), "--set ",
                path, ": cannot parse '", v, "' as ", field->type_name());
    }
  }
}

void apply_overrides(config::Experiment& experiment, const std::vector<std::string>& overrides,
                     const std::string& source) {
  for (const std::string& assignment : overrides) apply_override(experiment, assignment);
  validate_experiment(experiment, source);
}

config::Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  config::Experiment experiment = load_experiment(path);
  apply_overrides(experiment, overrides, path);
  return experiment;
}

}  // namespace qat
