#include "layers/models/bert.h"

#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "layers/linear.h"

namespace qat {
namespace {

TransformerModelOptions stack_of(const BertOptions& o) {
  QAT_CHECK(o.num_classes >= 0, "Bert: classes ", o.num_classes, " must not be negative");
  QAT_CHECK(o.head == BertHead::mlm || o.num_classes > 0,
            "Bert: the classification head needs num_classes > 0");
  TransformerModelOptions stack = o.stack;
  stack.pre_norm = false;
  return stack;
}

}  // namespace

Bert::Bert(const BertOptions& options) : TransformerModel(stack_of(options)), options_(options) {
  const int64_t hidden = options.stack.hidden;
  register_module("mlm_head",
                  std::make_shared<Linear>(LinearOptions{.in = hidden, .out = options.stack.vocab}));
  if (options.num_classes > 0)
    register_module("cls_head",
                    std::make_shared<Linear>(LinearOptions{.in = hidden, .out = options.num_classes}));
}

Tensor Bert::attention_mask(const Tensor& ids) const {
  if (stack_options().pad_id < 0) return Tensor();
  return additive_padding_mask(ids, mask_of_padding(ids, stack_options().pad_id), "Bert");
}

Variable Bert::head(const Variable& hidden) {
  return options_.head == BertHead::mlm ? call_child("mlm_head", hidden) : classify_hidden(hidden);
}

std::string Bert::head_child() const { return options_.head == BertHead::mlm ? "mlm_head" : "cls_head"; }

Variable Bert::encode(const Tensor& ids, const Tensor& attention_mask) {
  check_token_ids(ids, stack_options().max_len, "Bert");
  return encode_masked(ids, additive_padding_mask(ids, attention_mask, "Bert"));
}

Variable Bert::mlm_logits(const Tensor& ids, const Tensor& attention_mask) {
  return call_child("mlm_head", encode(ids, attention_mask));
}

Variable Bert::classify(const Tensor& ids, const Tensor& attention_mask) {
  QAT_CHECK(options_.num_classes > 0, "Bert: classify needs num_classes > 0 (ids ", ids.str(), ")");
  return classify_hidden(encode(ids, attention_mask));
}

Variable Bert::classify_hidden(const Variable& hidden) {
  const Variable first = reshape(slice(hidden, 1, 0, 1), {hidden.dim(0), stack_options().hidden});
  return call_child("cls_head", first);
}

std::shared_ptr<Bert> bert_small(int64_t vocab, int64_t num_classes) {
  return std::make_shared<Bert>(BertOptions{
      .stack = {.vocab = vocab, .hidden = 256, .layers = 4, .heads = 4, .ffn = 1024, .max_len = 128},
      .num_classes = num_classes});
}

}  // namespace qat
