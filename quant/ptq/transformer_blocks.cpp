#include "quant/ptq/transformer_blocks.h"

#include <memory>
#include <string>

#include "engine/error.h"

namespace qat::ptq {

std::vector<RunnerBlock> transformer_blocks(TransformerModel& model, const std::vector<Tensor>& ids) {
  // Masks depend on the ids only, so each batch's is fixed before the first block runs.
  auto masks = std::make_shared<std::vector<Tensor>>();
  for (const Tensor& batch : ids) {
    check_token_ids(batch, model.stack_options().max_len, "transformer_blocks");
    masks->push_back(model.attention_mask(batch));
  }
  std::vector<RunnerBlock> blocks;
  blocks.push_back({"embed", &child_of(model, "norm", "norm", "transformer_blocks"),
                    [&model](int64_t, const Tensor& x) { return model.embed(x).data(); }});
  Module& layers = child_of(model, "layers", "layers", "transformer_blocks");
  for (int64_t i = 0; i < model.stack_options().layers; ++i) {
    const std::string name = std::to_string(i);
    blocks.push_back({"layers." + name, &child_of(layers, name, "layers." + name, "transformer_blocks"),
                      [&model, masks, i](int64_t batch, const Tensor& x) {
                        return model.run_layer(i, Variable(x), masks->at(static_cast<size_t>(batch))).data();
                      }});
  }
  const std::string head = model.head_child();
  blocks.push_back({head, &child_of(model, head, head, "transformer_blocks"),
                    [&model](int64_t, const Tensor& x) { return model.head(Variable(x)).data(); }});
  return blocks;
}

}  // namespace qat::ptq
