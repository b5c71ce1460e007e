#include "engine/kernels/reorder.h"

#include "engine/context.h"
#include "engine/primitive_cache.h"

namespace qat::kernels {

void reorder(const dnnl::memory::desc& src_desc, const void* src, const dnnl::memory::desc& dst_desc,
             void* dst) {
  auto& ctx = Context::get();
  const auto& prim = PrimitiveCache::get().find_or_create<dnnl::reorder>(
      CacheKey("reorder").add(src_desc).add(dst_desc), [&] {
        return dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine(), src_desc, ctx.engine(), dst_desc));
      });
  dnnl::memory src_mem(src_desc, ctx.engine(), const_cast<void*>(src));
  dnnl::memory dst_mem(dst_desc, ctx.engine(), dst);
  prim.execute(ctx.stream(), src_mem, dst_mem);
  ctx.stream().wait();
}

}  // namespace qat::kernels
