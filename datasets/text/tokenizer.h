#pragma once
// Tokenizer: a SentencePiece unigram model (Debian's libsentencepiece) with BERT's special tokens.
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

/// Fixed ids of the special tokens.
struct SpecialTokens {
  static constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4;
  static constexpr int32_t kCount = 5;  ///< ids below this are special
};

/// Splits text into subword ids; trained on a training split and stored with the model.
class Tokenizer {
 public:
  /// Trains a unigram model of `vocab_size` pieces on `texts` (deterministic for the same input).
  static Tokenizer train(const std::vector<std::string>& texts, int vocab_size);
  /// Loads a model from the bytes serialized() returned; errors name `source`.
  static Tokenizer from_serialized(const std::string& bytes, const std::string& source);
  Tokenizer(Tokenizer&& other) noexcept;
  Tokenizer& operator=(Tokenizer&& other) noexcept;
  ~Tokenizer();

  /// Subword ids of `text` (no special tokens added).
  std::vector<int32_t> encode(const std::string& text) const;
  /// Text of ids (special tokens dropped).
  std::string decode(const std::vector<int32_t>& ids) const;
  /// Number of ids, special ones included.
  int32_t vocab_size() const;
  /// The model as bytes (a SentencePiece ModelProto), for checkpoints.
  const std::string& serialized() const { return bytes_; }

 private:
  Tokenizer() = default;
  std::string bytes_;
  void* processor_ = nullptr;  ///< a SentencePieceProcessor inside the isolated shim library
};

}  // namespace qat
