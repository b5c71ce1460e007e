#pragma once
// Element types a Tensor can hold and their oneDNN counterparts.
#include <cstddef>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace qat {

/// Element type of a tensor.
enum class DType { f32, bf16, s8, u8, s32 };

/// Bytes per element.
size_t size_of(DType dtype);
/// Lower-case name ("f32", "s8", ...).
std::string to_string(DType dtype);
/// The oneDNN data type.
dnnl::memory::data_type to_dnnl(DType dtype);
/// The DType for a oneDNN data type; throws for unsupported ones.
DType from_dnnl(dnnl::memory::data_type type);

}  // namespace qat
