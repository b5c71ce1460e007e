#pragma once
// WordNet 3.0 synsets with their glosses, from Debian's wordnet-base (/usr/share/wordnet/data.*).
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

/// Where Debian's wordnet-base installs the database.
inline constexpr const char* kWordNetDir = "/usr/share/wordnet";

/// One synset: its byte offset in data.<pos>, part of speech, lexicographer file (the supersense, 0–44)
/// and gloss (the text after "| ": a definition, often followed by quoted examples).
struct Synset {
  uint32_t offset = 0;
  char pos = 'n';  ///< n, v, a, s (satellite adjective) or r
  int lex_file = 0;
  std::string gloss;
};

/// Number of lexicographer files, i.e. supersense classes.
inline constexpr int kLexFiles = 45;

/// Every synset of data.noun, data.verb, data.adj and data.adv (about 117,659); errors name the file and
/// line, or the package to install when the directory is missing.
std::vector<Synset> load_wordnet_glosses(const std::string& dir = kWordNetDir);

}  // namespace qat
