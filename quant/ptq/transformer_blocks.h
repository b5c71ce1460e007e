#pragma once
// The block cut of Bert and Gpt for the sequential runner: embeddings, each transformer layer, the head.
#include <vector>

#include "layers/models/transformer_model.h"
#include "quant/ptq/sequential_runner.h"

namespace qat::ptq {

/// The blocks of `model` for the calibration batches `ids` (s32 [B, T] each; block 0 takes them as its
/// input): "embed" (token and position embeddings, normalized in Bert's post-LN stack; no quantized
/// layer), "layers.0" … "layers.{L−1}" (each under the attention mask of its batch's ids, as forward()
/// computes it), then the head (Bert's "mlm_head" or "cls_head"; Gpt's final norm and tied head, "tok",
/// keep no quantized layer). Running
/// them in order reproduces model.forward. `model` must outlive the blocks.
std::vector<RunnerBlock> transformer_blocks(TransformerModel& model, const std::vector<Tensor>& ids);

}  // namespace qat::ptq
