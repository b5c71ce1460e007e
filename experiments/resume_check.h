#pragma once
// What a resumed run may change: a run continued under a different config would mix two experiments.
#include <string>

#include "experiments/experiment.pb.h"

namespace qat {

/// Fields a resumed run may change, as field paths (a message's path covers all of its fields): they do
/// not change what is trained or the numbers a run ends with — its name, where the data lives, how much
/// is prefetched, the evaluation batch size, and the sections train does not read (compare, export).
inline constexpr const char* kResumableFields[] = {
    "name", "data.dir", "data.prefetch", "train.eval_batch_size", "compare", "export"};

/// Refuses to resume the run whose checkpoint is `checkpoint_path` under `now` when the stored config
/// differs in any field outside kResumableFields; the error lists every differing field with both values.
void check_resume_config(const std::string& checkpoint_path, const config::Experiment& now);

}  // namespace qat
