#include "trainers/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/error.h"
#include "engine/random.h"
#include "tests/test_util.h"

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

bool same_tensors(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, tensor] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.dtype() != tensor.dtype() || it->second.shape() != tensor.shape())
      return false;
    const auto* x = static_cast<const char*>(tensor.raw());
    const auto* y = static_cast<const char*>(it->second.raw());
    if (!std::equal(x, x + tensor.numel() * size_of(tensor.dtype()), y)) return false;
  }
  return true;
}

// Corruption is detected, never evaluated: every single flipped byte of the file either fails the load
// (Fletcher-32 on data, HDF5's checksums on metadata) or lands where nothing is read (free space,
// padding) and loads exactly the saved content.
TEST(Checkpoint, AFlippedByteAnywhereFailsTheLoadOrChangesNothing) {
  const std::string path = temp_path("flipped.h5"), copy = temp_path("flipped_copy.h5");
  const Checkpoint saved = sample();
  save_checkpoint(path, saved);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int detected = 0, harmless = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    std::ofstream(copy, std::ios::binary | std::ios::trunc) << damaged;
    try {
      const Checkpoint loaded = load_checkpoint(copy);
      ASSERT_TRUE(same_tensors(loaded.model, saved.model) &&
                  same_tensors(loaded.optimizer, saved.optimizer) && same_tensors(loaded.ema, saved.ema) &&
                  same_tensors(loaded.assets, saved.assets) && loaded.meta == saved.meta)
          << "byte " << i << " of " << bytes.size() << " changed what was loaded, undetected";
      ++harmless;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(copy), std::string::npos) << e.what();
      ++detected;
    }
  }
  EXPECT_GT(detected, static_cast<int>(bytes.size()) / 2) << harmless << " harmless";
  std::filesystem::remove(path);
  std::filesystem::remove(copy);
}

TEST(Checkpoint, AFlippedDataByteNamesTheDataset) {
  const std::string path = temp_path("flipped_data.h5");
  const Checkpoint saved = sample();
  save_checkpoint(path, saved);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const Tensor& weight = saved.model.at("layer1.conv.weight");
  const std::string data(static_cast<const char*>(weight.raw()), weight.numel() * size_of(weight.dtype()));
  const size_t at = bytes.find(data);
  ASSERT_NE(at, std::string::npos);
  file.seekp(static_cast<std::streamoff>(at + data.size() / 2));
  file.put(static_cast<char>(bytes[at + data.size() / 2] ^ 0x01));
  file.close();
  const std::string message = test::error_of([&] { load_checkpoint(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("model/layer1.conv.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace qat
