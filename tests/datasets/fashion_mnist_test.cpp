#include "datasets/fashion_mnist.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <vector>

#include "engine/error.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

// Writes an IDX fixture pair (images 3-d, labels 1-d) as gzip files under a fresh temp dir.
class IdxFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qat_idx_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<uint8_t> header(uint32_t magic, const std::vector<uint32_t>& dims) {
    std::vector<uint8_t> out;
    auto put = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
    };
    put(magic);
    for (uint32_t d : dims) put(d);
    return out;
  }
  void write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    gzFile f = gzopen((dir_ / name).c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  }
  void write_split(uint32_t n, uint32_t labels, int drop_bytes = 0, uint32_t magic = 0x803) const {
    std::vector<uint8_t> images = header(magic, {n, 2, 3});
    for (uint32_t i = 0; i < n * 6; ++i) images.push_back(static_cast<uint8_t>(i));
    images.resize(images.size() - drop_bytes);
    std::vector<uint8_t> label_bytes = header(0x801, {labels});
    for (uint32_t i = 0; i < labels; ++i) label_bytes.push_back(static_cast<uint8_t>(i % 10));
    write("t10k-images-idx3-ubyte.gz", images);
    write("t10k-labels-idx1-ubyte.gz", label_bytes);
  }
  fs::path dir_;
};

TEST_F(IdxFixture, ReadsImagesAndLabels) {
  write_split(4, 4);
  const ImageDataset data = load_fashion_mnist("test", dir_);
  EXPECT_EQ(data.images.shape(), (Shape{4, 1, 2, 3}));
  EXPECT_EQ(data.images.data<uint8_t>()[7], 7);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(data.first(2).size(), 2);
}

TEST_F(IdxFixture, TruncatedPayloadNamesTheFile) {
  write_split(4, 4, 5);
  const std::string message = test::error_of([&] { load_fashion_mnist("test", dir_); });
  EXPECT_NE(message.find("t10k-images-idx3-ubyte.gz"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST_F(IdxFixture, BadMagicAndCountMismatchAreRejected) {
  write_split(4, 4, 0, 0x1234);
  EXPECT_NE(test::error_of([&] { load_fashion_mnist("test", dir_); }).find("magic"), std::string::npos);
  write_split(4, 3);
  EXPECT_NE(test::error_of([&] { load_fashion_mnist("test", dir_); }).find("labels"), std::string::npos);
}

TEST_F(IdxFixture, MissingFilesNameTheDebianPackage) {
  const std::string message =
      test::error_of([&] { load_fashion_mnist("test", (dir_ / "nothing").string()); });
  EXPECT_NE(message.find("dataset-fashion-mnist"), std::string::npos) << message;
}

TEST(FashionMnist, RealDataHasTheKnownSizes) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const ImageDataset train = load_fashion_mnist("train"), test = load_fashion_mnist("test");
  EXPECT_EQ(train.images.shape(), (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(test.size(), 10000);
  std::vector<int> histogram(10);
  for (int32_t label : test.labels) ++histogram[label];
  EXPECT_EQ(histogram, std::vector<int>(10, 1000));
}

}  // namespace
}  // namespace qat
