#include "engine/context.h"

#include "engine/error.h"

namespace qat {

Context::Context() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

Context& Context::get() {
  static Context instance;
  return instance;
}

bool Context::bf16_supported() {
  // cpu_isa values are bit sets: an ISA includes another when it has all of its bits.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

void Context::set_precision(Precision precision) {
  QAT_CHECK(precision != Precision::bf16 || bf16_supported(),
            "bf16 precision needs a CPU with AVX512-BF16 (oneDNN reports none on this one)");
  precision_ = precision;
}

PrecisionScope::PrecisionScope(Precision precision) : previous_(Context::get().precision()) {
  Context::get().set_precision(precision);
}

PrecisionScope::~PrecisionScope() { Context::get().restore_precision(previous_); }

}  // namespace qat
