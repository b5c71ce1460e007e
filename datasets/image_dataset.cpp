#include "datasets/image_dataset.h"

namespace qat {

ImageDataset ImageDataset::first(int64_t limit) const {
  if (limit <= 0 || limit >= size()) return *this;
  ImageDataset out = *this;
  out.images = images.slice_rows(0, limit);
  out.labels.resize(static_cast<size_t>(limit));
  return out;
}

}  // namespace qat
