#include "engine/cache_key.h"

namespace qat {

CacheKey& CacheKey::add(const dnnl::memory::desc& desc) {
  const dnnl_memory_desc_t& md = desc.data;
  append_raw(md.ndims);
  for (int i = 0; i < md.ndims; ++i) {
    append_raw(md.dims[i]);
    append_raw(md.padded_dims[i]);
    append_raw(md.padded_offsets[i]);
  }
  append_raw(md.data_type);
  append_raw(md.offset0);
  append_raw(md.format_kind);
  if (md.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t& blk = md.format_desc.blocking;
    for (int i = 0; i < md.ndims; ++i) append_raw(blk.strides[i]);
    append_raw(blk.inner_nblks);
    for (int i = 0; i < blk.inner_nblks; ++i) {
      append_raw(blk.inner_blks[i]);
      append_raw(blk.inner_idxs[i]);
    }
  }
  append_raw(md.extra.flags);
  append_raw(md.extra.compensation_mask);
  append_raw(md.extra.scale_adjust);
  append_raw(md.extra.asymm_compensation_mask);
  return *this;
}

CacheKey& CacheKey::add(int64_t value) {
  append_raw(value);
  return *this;
}

CacheKey& CacheKey::add(float value) {
  append_raw(value);
  return *this;
}

CacheKey& CacheKey::add(const dnnl::memory::dims& dims) {
  add(static_cast<int64_t>(dims.size()));
  for (auto d : dims) add(static_cast<int64_t>(d));
  return *this;
}

}  // namespace qat
