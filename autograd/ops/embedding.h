#pragma once
// Embedding lookup: forward gather and deterministic scatter-add backward in embedding.cpp.
#include "autograd/variable.h"

namespace qat {

/// Rows of table [V, D] picked by s32 ids of any shape: result [ids..., D].
Variable embedding(const Tensor& ids, const Variable& table);

}  // namespace qat
