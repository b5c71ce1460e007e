#pragma once
// Fashion-MNIST from Debian's dataset-fashion-mnist (gzip IDX files).
#include <string>

#include "datasets/image_dataset.h"

namespace qat {

/// Where Debian's dataset-fashion-mnist installs the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// The image file of a split ("train" or "test") under `dir`.
std::string fashion_mnist_image_file(const std::string& split, const std::string& dir = kFashionMnistDir);
/// Loads the "train" (60000) or "test" (10000) split as [N, 1, 28, 28]; errors name the file and the problem.
ImageDataset load_fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);

}  // namespace qat
