#include "engine/context.h"

namespace qat {

Context::Context() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

Context& Context::get() {
  static Context instance;
  return instance;
}

}  // namespace qat
