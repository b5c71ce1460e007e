#pragma once
// Checkpoint: model state, optimizer state and run metadata in one HDF5 file, written atomically.
#include <map>
#include <string>

#include "engine/tensor.h"

namespace qat {

/// What a checkpoint holds. Tensors become HDF5 datasets named as in the state dict (under /model,
/// /optimizer, /ema and /assets); metadata become string attributes of the root group.
struct Checkpoint {
  std::map<std::string, Tensor> model;
  std::map<std::string, Tensor> optimizer;
  std::map<std::string, Tensor> ema;  ///< averaged weights when the run keeps an EMA (group /ema, optional)
  std::map<std::string, Tensor> assets;  ///< files the model needs, e.g. its tokenizer as u8 bytes (/assets)
  std::map<std::string, std::string> meta;
};

/// Writes `checkpoint` to `path` through a temporary file and a rename, so a crash never leaves a
/// half-written checkpoint under the final name.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
/// Reads a checkpoint; a missing, truncated or malformed file gives an error naming the file and entry.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace qat
