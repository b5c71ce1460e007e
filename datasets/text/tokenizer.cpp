#include "datasets/text/tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <utility>

#include "datasets/text/sentencepiece_shim/sentencepiece_shim.h"
#include "engine/error.h"

namespace qat {
namespace {

// The shim's functions, resolved once from the isolated library (see sentencepiece_shim.h for why).
struct Shim {
  decltype(&qat_spm_train) train;
  decltype(&qat_spm_load) load;
  decltype(&qat_spm_encode) encode;
  decltype(&qat_spm_decode) decode;
  decltype(&qat_spm_piece_size) piece_size;
  decltype(&qat_spm_piece_to_id) piece_to_id;
  decltype(&qat_spm_free_processor) free_processor;
};

template <typename F>
void resolve(void* library, const char* name, F& function) {
  function = reinterpret_cast<F>(dlsym(library, name));
  QAT_CHECK(function != nullptr, "tokenizer: ", QAT_SENTENCEPIECE_SHIM, " lacks ", name);
}

// AddressSanitizer refuses RTLD_DEEPBIND; sanitized builds load the shim without it, which only works in
// processes that do not also hold libprotobuf (the sanitizer CI run skips those tests).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kIsolation = RTLD_LOCAL;
#else
constexpr int kIsolation = RTLD_LOCAL | RTLD_DEEPBIND;
#endif

const Shim& shim() {
  static const Shim functions = [] {
    void* library = dlopen(QAT_SENTENCEPIECE_SHIM, RTLD_NOW | kIsolation);
    QAT_CHECK(library != nullptr, "tokenizer: cannot load ", QAT_SENTENCEPIECE_SHIM, " (", dlerror(),
              "); install libsentencepiece-dev and rebuild");
    Shim s{};
    resolve(library, "qat_spm_train", s.train);
    resolve(library, "qat_spm_load", s.load);
    resolve(library, "qat_spm_encode", s.encode);
    resolve(library, "qat_spm_decode", s.decode);
    resolve(library, "qat_spm_piece_size", s.piece_size);
    resolve(library, "qat_spm_piece_to_id", s.piece_to_id);
    resolve(library, "qat_spm_free_processor", s.free_processor);
    return s;
  }();
  return functions;
}

std::string take(char* text) {
  std::string out = text ? text : "";
  std::free(text);
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Tokenizer&& other) noexcept
    : bytes_(std::move(other.bytes_)), processor_(std::exchange(other.processor_, nullptr)) {}

Tokenizer& Tokenizer::operator=(Tokenizer&& other) noexcept {
  std::swap(bytes_, other.bytes_);
  std::swap(processor_, other.processor_);
  return *this;
}

Tokenizer::~Tokenizer() {
  if (processor_) shim().free_processor(processor_);
}

Tokenizer Tokenizer::train(const std::vector<std::string>& texts, int vocab_size) {
  QAT_CHECK(!texts.empty(), "tokenizer: no training text");
  QAT_CHECK(vocab_size > SpecialTokens::kCount, "tokenizer: vocab_size ", vocab_size, " too small");
  // One thread and no sentence sampling keep training deterministic; the special tokens take ids 0–4.
  const std::string args =
      "--model_type=unigram --vocab_size=" + std::to_string(vocab_size) +
      " --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 --control_symbols=[CLS],[SEP],[MASK]"
      " --num_threads=1 --input_sentence_size=0 --shuffle_input_sentence=false"
      " --hard_vocab_limit=false --minloglevel=2";
  std::vector<const char*> pointers;
  pointers.reserve(texts.size());
  for (const std::string& t : texts) pointers.push_back(t.c_str());
  char *model = nullptr, *error = nullptr;
  size_t size = 0;
  QAT_CHECK(shim().train(pointers.data(), pointers.size(), args.c_str(), &model, &size, &error) == 0,
            "tokenizer: training failed: ", take(error));
  const std::string bytes(model, size);
  std::free(model);
  return from_serialized(bytes, "freshly trained model");
}

Tokenizer Tokenizer::from_serialized(const std::string& bytes, const std::string& source) {
  Tokenizer t;
  t.bytes_ = bytes;
  char* error = nullptr;
  t.processor_ = shim().load(bytes.data(), bytes.size(), &error);
  QAT_CHECK(t.processor_ != nullptr, "tokenizer ", source, ": not a SentencePiece model (", take(error), ")");
  const std::pair<const char*, int32_t> specials[] = {{"<pad>", SpecialTokens::kPad},
                                                      {"<unk>", SpecialTokens::kUnk},
                                                      {"[CLS]", SpecialTokens::kCls},
                                                      {"[SEP]", SpecialTokens::kSep},
                                                      {"[MASK]", SpecialTokens::kMask}};
  for (const auto& [piece, id] : specials)
    QAT_CHECK(shim().piece_to_id(t.processor_, piece) == id, "tokenizer ", source, ": ", piece, " has id ",
              shim().piece_to_id(t.processor_, piece), ", expected ", id);
  return t;
}

std::vector<int32_t> Tokenizer::encode(const std::string& text) const {
  int* ids = nullptr;
  const long count = shim().encode(processor_, text.data(), text.size(), &ids);
  QAT_CHECK(count >= 0, "tokenizer: cannot encode '", text.substr(0, 40), "'");
  std::vector<int32_t> out(ids, ids + count);
  std::free(ids);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::vector<int> kept;
  for (int32_t id : ids)
    if (id >= SpecialTokens::kCount || id == SpecialTokens::kUnk) kept.push_back(id);
  return take(shim().decode(processor_, kept.data(), kept.size()));
}

int32_t Tokenizer::vocab_size() const { return shim().piece_size(processor_); }

}  // namespace qat
