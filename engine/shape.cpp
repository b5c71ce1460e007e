#include "engine/shape.h"

#include "engine/error.h"

namespace qat {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape row_major_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

int normalize_axis(int axis, int ndim, const char* op) {
  const int resolved = axis < 0 ? axis + ndim : axis;
  QAT_CHECK(resolved >= 0 && resolved < ndim, op, ": axis ", axis, " out of range for ", ndim, "-d tensor");
  return resolved;
}

}  // namespace qat
