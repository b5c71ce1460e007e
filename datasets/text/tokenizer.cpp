#include "datasets/text/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "engine/error.h"

namespace qat {
namespace {

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& texts) : texts_(texts) {}
  bool done() const override { return index_ >= texts_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return texts_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& texts_;
  size_t index_ = 0;
};

}  // namespace

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::train(const std::vector<std::string>& texts, int vocab_size) {
  QAT_CHECK(!texts.empty(), "tokenizer: no training text");
  QAT_CHECK(vocab_size > SpecialTokens::count, "tokenizer: vocab_size ", vocab_size, " too small");
  // One thread and no sentence sampling keep training deterministic; the special tokens take ids 0–4.
  const std::string args =
      "--model_type=unigram --vocab_size=" + std::to_string(vocab_size) +
      " --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 --control_symbols=[CLS],[SEP],[MASK]"
      " --num_threads=1 --input_sentence_size=0 --shuffle_input_sentence=false"
      " --hard_vocab_limit=false --minloglevel=2";
  VectorIterator input(texts);
  std::string bytes;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &input, &bytes);
  QAT_CHECK(status.ok(), "tokenizer: training failed: ", status.ToString());
  return from_serialized(bytes, "freshly trained model");
}

Tokenizer Tokenizer::from_serialized(const std::string& bytes, const std::string& source) {
  Tokenizer t;
  t.bytes_ = bytes;
  t.processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = t.processor_->LoadFromSerializedProto(bytes);
  QAT_CHECK(status.ok(), "tokenizer ", source, ": not a SentencePiece model (", status.ToString(), ")");
  const std::pair<const char*, int32_t> specials[] = {
      {"[CLS]", SpecialTokens::cls}, {"[SEP]", SpecialTokens::sep}, {"[MASK]", SpecialTokens::mask}};
  for (const auto& [piece, id] : specials)
    QAT_CHECK(t.processor_->PieceToId(piece) == id, "tokenizer ", source, ": ", piece, " has id ",
              t.processor_->PieceToId(piece), ", expected ", id);
  QAT_CHECK(t.processor_->pad_id() == SpecialTokens::pad && t.processor_->unk_id() == SpecialTokens::unk,
            "tokenizer ", source, ": [PAD]/[UNK] ids are not 0/1");
  return t;
}

std::vector<int32_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  QAT_CHECK(status.ok(), "tokenizer: cannot encode text (", status.ToString(), ")");
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::vector<int> kept;
  for (int32_t id : ids)
    if (id >= SpecialTokens::count || id == SpecialTokens::unk) kept.push_back(id);
  return processor_->DecodeIds(kept);
}

int32_t Tokenizer::vocab_size() const { return processor_->GetPieceSize(); }

}  // namespace qat
