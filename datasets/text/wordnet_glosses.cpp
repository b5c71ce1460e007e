#include "datasets/text/wordnet_glosses.h"

#include <filesystem>
#include <fstream>

#include "engine/error.h"

namespace qat {
namespace {

// A data line: "OFFSET LEX_FILENUM SS_TYPE W_CNT WORD LEX_ID ... | GLOSS"; the license header lines
// start with two spaces.
Synset parse_line(const std::string& line, const std::string& path, int64_t number) {
  auto fail = [&](const char* what) {
    detail::fail("wordnet ", path, " line ", number, ": ", what, " in '", line.substr(0, 60), "'");
  };
  const size_t bar = line.find(" | ");
  if (line.size() < 14 || bar == std::string::npos) fail("no 'offset lex_file pos ... | gloss' record");
  Synset s;
  try {
    s.offset = static_cast<uint32_t>(std::stoul(line.substr(0, 8)));
    s.lex_file = std::stoi(line.substr(9, 2));
  } catch (const std::exception&) {
    fail("malformed offset or lexicographer file");
  }
  if (s.lex_file < 0 || s.lex_file >= kLexFiles) fail("lexicographer file out of range 0..44");
  s.pos = line[12];
  s.gloss = line.substr(bar + 3);
  while (!s.gloss.empty() && (s.gloss.back() == ' ' || s.gloss.back() == '\r')) s.gloss.pop_back();
  return s;
}

}  // namespace

std::vector<Synset> load_wordnet_glosses(const std::string& dir) {
  QAT_CHECK(std::filesystem::is_directory(dir), "wordnet: directory ", dir,
            " not found (install Debian's wordnet-base: apt-get install wordnet-base)");
  std::vector<Synset> synsets;
  for (const char* part : {"noun", "verb", "adj", "adv"}) {
    const std::string path = dir + "/data." + part;
    std::ifstream in(path);
    QAT_CHECK(in.good(), "wordnet: cannot open ", path, " (package wordnet-base)");
    int64_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.rfind("  ", 0) == 0 || line.empty()) continue;
      synsets.push_back(parse_line(line, path, number));
    }
  }
  return synsets;
}

}  // namespace qat
