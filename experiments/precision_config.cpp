#include "experiments/precision_config.h"

#include "engine/error.h"

namespace qat {

Precision precision_of(const config::TrainConfig& train) {
  if (train.precision() == "fp32") return Precision::f32;
  QAT_CHECK(train.precision() == "bf16", "train.precision: unknown precision '", train.precision(),
            "' (known: fp32, bf16)");
  QAT_CHECK(Context::bf16_supported(), "train.precision: bf16 needs a CPU with AVX512-BF16");
  return Precision::bf16;
}

}  // namespace qat
