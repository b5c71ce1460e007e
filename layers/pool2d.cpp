#include "layers/pool2d.h"

#include "autograd/ops/pool.h"

namespace qat {

Variable Pool2d::forward(const Variable& x) {
  switch (options_.kind) {
    case PoolKind::max:
      return max_pool2d(x, options_.kernel, options_.stride, options_.padding);
    case PoolKind::average:
      return avg_pool2d(x, options_.kernel, options_.stride, options_.padding);
    case PoolKind::global_average:
      return global_avg_pool2d(x);
  }
  return x;
}

}  // namespace qat
