#include "datasets/text/sentencepiece_shim/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// Exported by libsentencepiece though absent from its headers. Its LOG(INFO) lines must stay off: under
// RTLD_DEEPBIND they reach libstdc++'s own std::cerr, not the copy an executable may hold (copy relocation),
// which was never constructed.
namespace sentencepiece::logging {
void SetMinLogLevel(int level);
}

namespace {

char* copy(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

class TextIterator : public sentencepiece::SentenceIterator {
 public:
  TextIterator(const char* const* texts, size_t count) : texts_(texts), count_(count) {}
  bool done() const override { return index_ >= count_; }
  void Next() override {
    ++index_;
    if (!done()) current_ = texts_[index_];
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }
  void start() {
    if (count_ > 0) current_ = texts_[0];
  }

 private:
  const char* const* texts_;
  size_t count_;
  size_t index_ = 0;
  std::string current_;
};

}  // namespace

extern "C" {

int qat_spm_train(const char* const* texts, size_t count, const char* args, char** model, size_t* size,
                  char** error) {
  sentencepiece::logging::SetMinLogLevel(2);
  TextIterator input(texts, count);
  input.start();
  std::string bytes;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &input, &bytes);
  if (!status.ok()) {
    *error = copy(status.ToString());
    return -1;
  }
  *model = static_cast<char*>(std::malloc(bytes.size()));
  std::memcpy(*model, bytes.data(), bytes.size());
  *size = bytes.size();
  return 0;
}

void* qat_spm_load(const char* bytes, size_t size, char** error) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->LoadFromSerializedProto(std::string(bytes, size));
  if (status.ok()) return processor;
  *error = copy(status.ToString());
  delete processor;
  return nullptr;
}

long qat_spm_encode(const void* processor, const char* text, size_t length, int** ids) {
  std::vector<int> out;
  if (!static_cast<const sentencepiece::SentencePieceProcessor*>(processor)
           ->Encode(std::string(text, length), &out)
           .ok())
    return -1;
  *ids = static_cast<int*>(std::malloc(std::max<size_t>(1, out.size()) * sizeof(int)));
  std::memcpy(*ids, out.data(), out.size() * sizeof(int));
  return static_cast<long>(out.size());
}

char* qat_spm_decode(const void* processor, const int* ids, size_t count) {
  return copy(
      static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->DecodeIds({ids, ids + count}));
}

int qat_spm_piece_size(const void* processor) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

int qat_spm_piece_to_id(const void* processor, const char* piece) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->PieceToId(piece);
}

void qat_spm_free_processor(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}
}
