#include "trainers/lr_schedule.h"

#include <cmath>
#include <numbers>

namespace qat {

LrSchedule::LrSchedule(const LrScheduleOptions& options, int total_epochs)
    : options_(options), total_epochs_(total_epochs) {}

float LrSchedule::at(double epoch) const {
  const auto& o = options_;
  if (epoch < o.warmup_epochs) {
    const double t = epoch / o.warmup_epochs;
    return static_cast<float>(o.base_lr * (o.warmup_start + (1.0 - o.warmup_start) * t));
  }
  switch (o.kind) {
    case LrScheduleOptions::Kind::constant:
      return o.base_lr;
    case LrScheduleOptions::Kind::cosine: {
      const double span = total_epochs_ - o.warmup_epochs;
      const double t = span > 0 ? (epoch - o.warmup_epochs) / span : 1.0;
      const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(t, 1.0)));
      return static_cast<float>(o.base_lr * (o.final_fraction + (1.0 - o.final_fraction) * cosine));
    }
    case LrScheduleOptions::Kind::step: {
      double lr = o.base_lr;
      for (const int milestone : o.milestones)
        if (epoch >= milestone) lr *= o.gamma;
      return static_cast<float>(lr);
    }
  }
  return o.base_lr;
}

}  // namespace qat
