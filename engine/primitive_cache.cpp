#include "engine/primitive_cache.h"

namespace qat {

PrimitiveCache& PrimitiveCache::get() {
  static PrimitiveCache instance;
  return instance;
}

}  // namespace qat
