#pragma once
// LrSchedule: the learning rate as a function of training progress.
#include <vector>

namespace qat {

/// Schedule settings (values come from the experiment config).
struct LrScheduleOptions {
  enum class Kind { constant, cosine, step };
  Kind kind = Kind::constant;
  float base_lr = 0.0f;
  float warmup_epochs = 0.0f;   ///< linear warm-up from warmup_start·base_lr
  float warmup_start = 0.0f;    ///< fraction of base_lr at step 0 of the warm-up
  float final_fraction = 0.0f;  ///< cosine ends at final_fraction·base_lr
  std::vector<int> milestones;  ///< step schedule: epochs where lr is multiplied by gamma
  float gamma = 1.0f;
};

/// Learning rate per (fractional) epoch.
class LrSchedule {
 public:
  LrSchedule(const LrScheduleOptions& options, int total_epochs);
  /// The rate at `epoch` (fractional: epoch + step/steps_per_epoch).
  float at(double epoch) const;

 private:
  LrScheduleOptions options_;
  int total_epochs_;
};

}  // namespace qat
