#include "datasets/fashion_mnist.h"

#include <cstring>
#include <filesystem>

#include "datasets/idx_file.h"
#include "engine/error.h"

namespace qat {

std::string fashion_mnist_image_file(const std::string& split, const std::string& dir) {
  return dir + "/" + (split == "train" ? "train" : "t10k") + "-images-idx3-ubyte.gz";
}

ImageDataset load_fashion_mnist(const std::string& split, const std::string& dir) {
  QAT_CHECK(split == "train" || split == "test", "fashion-mnist: unknown split '", split,
            "' (train or test)");
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string image_path = fashion_mnist_image_file(split, dir),
                    label_path = prefix + "-labels-idx1-ubyte.gz";
  for (const std::string& path : {image_path, label_path})
    QAT_CHECK(std::filesystem::exists(path), path,
              ": no such file (install the Debian package dataset-fashion-mnist)");
  const IdxArray images = read_idx(image_path, 3), labels = read_idx(label_path, 1);
  QAT_CHECK(images.dims[0] == labels.dims[0], image_path, ": ", images.dims[0], " images but ", label_path,
            " has ", labels.dims[0], " labels");
  ImageDataset data;
  data.name = "fashion_mnist/" + split;
  data.num_classes = 10;
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  data.images = Tensor::empty({n, 1, h, w}, DType::u8);
  std::memcpy(data.images.raw(), images.data.data(), images.data.size());
  data.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    data.labels[i] = labels.data[static_cast<size_t>(i)];
    QAT_CHECK(data.labels[i] < data.num_classes, label_path, ": label ", data.labels[i], " of example ", i,
              " is out of range 0..9");
  }
  return data;
}

}  // namespace qat
