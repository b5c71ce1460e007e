#include "engine/dtype.h"

#include "engine/error.h"

namespace qat {

size_t size_of(DType dtype) {
  switch (dtype) {
    case DType::f32:
    case DType::s32:
      return 4;
    case DType::bf16:
      return 2;
    case DType::s8:
    case DType::u8:
      return 1;
  }
  return 0;
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::bf16:
      return "bf16";
    case DType::s8:
      return "s8";
    case DType::u8:
      return "u8";
    case DType::s32:
      return "s32";
  }
  return "?";
}

dnnl::memory::data_type to_dnnl(DType dtype) {
  using dt = dnnl::memory::data_type;
  switch (dtype) {
    case DType::f32:
      return dt::f32;
    case DType::bf16:
      return dt::bf16;
    case DType::s8:
      return dt::s8;
    case DType::u8:
      return dt::u8;
    case DType::s32:
      return dt::s32;
  }
  return dt::undef;
}

DType from_dnnl(dnnl::memory::data_type type) {
  using dt = dnnl::memory::data_type;
  switch (type) {
    case dt::f32:
      return DType::f32;
    case dt::bf16:
      return DType::bf16;
    case dt::s8:
      return DType::s8;
    case dt::u8:
      return DType::u8;
    case dt::s32:
      return DType::s32;
    default:
      detail::fail("unsupported oneDNN data type ", static_cast<int>(type));
  }
}

}  // namespace qat
