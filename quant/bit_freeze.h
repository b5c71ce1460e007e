#pragma once
// The end of NIPQ's bit-width learning: every learned width becomes an integer, chosen so that the
// model's rounded costs meet the cost target rather than drifting by the rounding of each layer.
#include "quant/cost_model.h"

namespace qat {

/// Rounds every learned bit-width to its nearest integer and stops learning it. With a target, widths then
/// move one bit at a time while that brings the rounded totals closer to the target, until they are within
/// 0.5% of it: first to their other neighbour (⌊b⌋ or ⌈b⌉, those nearest a half first), further only when
/// the neighbours cannot meet it. Widths already on an integer (a frozen model, e.g. after a resume) keep
/// it. Requires a forward pass first (for MACs).
void freeze_learned_bits(const QuantizedModel& model, const CostTarget& target);

}  // namespace qat
