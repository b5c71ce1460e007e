#include "trainers/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("qat_" + name + "_" + std::to_string(::getpid())))
      .string();
}

Checkpoint sample() {
  Generator gen(9);
  Checkpoint c;
  c.model["layer1.conv.weight"] = gen.normal_tensor({4, 3, 3, 3});
  c.model["bn.running_mean"] = gen.normal_tensor({4});
  Tensor steps = Tensor::empty({2}, DType::s32);
  steps.data<int32_t>()[0] = 7;
  steps.data<int32_t>()[1] = -3;
  c.optimizer["momentum.layer1.conv.weight"] = gen.normal_tensor({4, 3, 3, 3});
  c.optimizer["steps"] = steps;
  c.meta["epoch"] = "3";
  c.meta["rng"] = gen.state();
  c.ema["layer1.conv.weight"] = gen.normal_tensor({4, 3, 3, 3});
  const std::string bytes("tok\0enizer\xff", 12);  // an opaque asset with NUL and high bytes
  c.assets["tokenizer"] = Tensor::empty({static_cast<int64_t>(bytes.size())}, DType::u8);
  std::copy(bytes.begin(), bytes.end(), c.assets["tokenizer"].data<uint8_t>());
  return c;
}

void expect_equal(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_EQ(b.at(name).shape(), tensor.shape()) << name;
    EXPECT_EQ(b.at(name).dtype(), tensor.dtype()) << name;
    EXPECT_EQ(b.at(name).to_vector(), tensor.to_vector()) << name;
  }
}

TEST(Checkpoint, RoundTripKeepsEveryTensorAndAttribute) {
  const std::string path = temp_path("roundtrip.h5");
  const Checkpoint saved = sample();
  save_checkpoint(path, saved);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const Checkpoint loaded = load_checkpoint(path);
  expect_equal(saved.model, loaded.model);
  expect_equal(saved.optimizer, loaded.optimizer);
  expect_equal(saved.ema, loaded.ema);
  expect_equal(saved.assets, loaded.assets);
  EXPECT_EQ(loaded.meta, saved.meta);
  std::filesystem::remove(path);
}

TEST(Checkpoint, MissingFileNamesThePath) {
  try {
    load_checkpoint("/nonexistent/qat.h5");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/qat.h5"), std::string::npos);
  }
}

TEST(Checkpoint, TruncatedFileIsRejected) {
  const std::string path = temp_path("truncated.h5");
  save_checkpoint(path, sample());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  EXPECT_THROW(load_checkpoint(path), Error);
  std::filesystem::remove(path);
}

TEST(Checkpoint, GarbageFileIsRejected) {
  const std::string path = temp_path("garbage.h5");
  std::ofstream(path) << "this is not hdf5";
  try {
    load_checkpoint(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace qat
