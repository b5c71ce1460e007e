#pragma once
// Reorder: copies data between layouts and data types through a cached oneDNN reorder.
#include <oneapi/dnnl/dnnl.hpp>

namespace qat::kernels {

/// Copies `src` (laid out as `src_desc`) into `dst` (laid out as `dst_desc`); dims must match.
void reorder(const dnnl::memory::desc& src_desc, const void* src, const dnnl::memory::desc& dst_desc,
             void* dst);

}  // namespace qat::kernels
