// Packed models of a tiny generated ResNet (LSQ, per-channel weights at 2, 3, 4 and 8 bits): the file
// round-trips every field, its weight payload is within 5% of Σ numel·bits/8, integer inference of the
// re-read file gives bit-identical logits run after run and matches the fake-quantized evaluation (also
// for a tiny MobileNetV2: depthwise convolutions, ReLU6, residuals without ReLU), and truncated or
// tampered files fail with errors naming the file, the layer and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "autograd/grad_mode.h"
#include "engine/hdf5_file.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/models/mobilenet_v2.h"
#include "layers/models/resnet.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/export/packed_file.h"
#include "quant/integer/integer_model.h"
#include "quant/quant_policy.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

// Two stages (an identity and a projection shortcut); trained-looking batch-norm statistics from a few
// training-mode passes; weight bits 3 in stage 1, 2 in stage 2, 4 in the projection, 8 first and last.
std::shared_ptr<Module> tiny_model() {
  manual_seed(3);
  auto model = resnet({.widths = {16, 32}, .blocks_per_stage = 1, .in_channels = 1, .num_classes = 10});
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight_bits = 3;
  policy.act_bits = 4;
  policy.weight.per_channel = true;
  policy.rules = {{.name_pattern = "layer2_0\\.conv.", .layer_type = "", .weight_bits = 2, .act_bits = {}},
                  {.name_pattern = ".*shortcut.*", .layer_type = "", .weight_bits = 4, .act_bits = {}}};
  quant::apply(*model, policy);
  NoGrad no_grad;
  Generator gen(4);
  for (int i = 0; i < 3; ++i) model->forward(Variable(gen.normal_tensor({16, 1, 12, 12})));
  model->eval();
  return model;
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("qat_packed_" + std::to_string(::getpid()) + "_" + name);
}

struct Saved {
  std::shared_ptr<Module> model;
  PackedModel packed;
  fs::path path;
};

Saved saved_model(const std::string& name) {
  Saved s{.model = tiny_model(), .packed = {}, .path = temp_file(name)};
  s.packed = pack_model(*s.model, "name: \"tiny\"");
  save_packed(s.packed, s.path.string());
  return s;
}

TEST(PackedModel, FileRoundTripsEveryField) {
  const Saved s = saved_model("roundtrip.h5");
  EXPECT_TRUE(is_packed_file(s.path.string()));
  EXPECT_FALSE(fs::exists(s.path.string() + ".tmp"));
  const PackedModel loaded = load_packed(s.path.string());
  EXPECT_EQ(loaded.config, "name: \"tiny\"");
  ASSERT_EQ(loaded.layers.size(), s.packed.layers.size());
  ASSERT_EQ(loaded.layers.size(), 7u);  // stem, 2 + 2 block convs, the projection, fc
  for (size_t i = 0; i < loaded.layers.size(); ++i) {
    const PackedLayer &a = s.packed.layers[i], &b = loaded.layers[i];
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(std::tie(a.stride, a.padding, a.dilation, a.groups, a.batch_norm, a.relu),
              std::tie(b.stride, b.padding, b.dilation, b.groups, b.batch_norm, b.relu))
        << a.path;
    EXPECT_EQ(a.weight.shape, b.weight.shape) << a.path;
    EXPECT_EQ(a.weight.codes, b.weight.codes) << a.path;
    EXPECT_EQ(a.weight.scale, b.weight.scale) << a.path;
    EXPECT_EQ(a.weight.zero_point, b.weight.zero_point) << a.path;
    EXPECT_EQ(std::tie(a.weight.qmin, a.weight.qmax, a.weight.bits),
              std::tie(b.weight.qmin, b.weight.qmax, b.weight.bits));
    EXPECT_EQ(a.weight.bias, b.weight.bias) << a.path;
    ASSERT_EQ(a.input.has_value(), b.input.has_value()) << a.path;
    if (a.input) {
      EXPECT_EQ(std::tie(a.input->scale, a.input->zero_point, a.input->qmin, a.input->qmax, a.input->bits,
                         a.input->is_signed),
                std::tie(b.input->scale, b.input->zero_point, b.input->qmin, b.input->qmax, b.input->bits,
                         b.input->is_signed));
    }
  }
  EXPECT_EQ(loaded.layer("stem").weight.bits, 8);
  EXPECT_FALSE(loaded.layer("stem").input.has_value()) << "the image stays float";
  EXPECT_EQ(loaded.layer("layer1_0.conv1").weight.bits, 3);
  EXPECT_EQ(loaded.layer("layer2_0.conv2").weight.bits, 2);
  EXPECT_EQ(loaded.layer("layer2_0.shortcut.conv").weight.bits, 4);
  EXPECT_EQ(loaded.layer("layer2_0.shortcut.conv").batch_norm, "layer2_0.shortcut.bn");
  EXPECT_TRUE(loaded.layer("layer1_0.conv1").relu);
  EXPECT_EQ(loaded.layer("fc").input->bits, 8);
  fs::remove(s.path);
}

TEST(PackedModel, WeightPayloadIsWithinFivePercentOfNumelTimesBits) {
  const Saved s = saved_model("payload.h5");
  double ideal = 0;
  int64_t payload = 0;
  for (const PackedLayer& l : s.packed.layers) {
    ideal += static_cast<double>(l.weight.codes.size()) * l.weight.bits / 8;
    payload += payload_bytes(l);
  }
  EXPECT_DOUBLE_EQ(ideal_payload_bytes(s.packed), ideal);
  EXPECT_LE(payload, 1.05 * ideal);
  EXPECT_GE(static_cast<double>(payload), ideal);
  // The stored datasets are what is counted: read one back as raw bytes.
  hdf5::Quiet quiet;
  const hdf5::Handle file(H5Fopen(s.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const hdf5::Handle group(H5Gopen2(file.get(), "layers/layer1_0.conv1", H5P_DEFAULT), H5Gclose);
  const Tensor codes = hdf5::read_tensor(group.get(), "weight_codes", "test");
  EXPECT_EQ(codes.numel(), (16 * 16 * 9 * 3 + 7) / 8);  // 3-bit codes really take 3 bits
  fs::remove(s.path);
}

// Images whose logits differ from `expected` by more than float rounding (1e-3 of the largest logit).
int differing_rows(const Tensor& got, const Tensor& expected) {
  const std::vector<float> a = got.to_vector(), b = expected.to_vector();
  const int64_t classes = expected.dim(1);
  int differing = 0;
  for (int64_t r = 0; r < expected.dim(0); ++r) {
    float largest = 0, difference = 0;
    for (int64_t c = 0; c < classes; ++c) {
      largest = std::max(largest, std::abs(b[r * classes + c]));
      difference = std::max(difference, std::abs(a[r * classes + c] - b[r * classes + c]));
    }
    differing += difference > 1e-3f * largest;
  }
  return differing;
}

TEST(PackedModel, IntegerInferenceOfTheReReadFileMatchesFakeQuantizedEvaluation) {
  const Saved s = saved_model("inference.h5");
  const Tensor x = Generator(11).normal_tensor({64, 1, 12, 12});
  Tensor fake;
  {
    NoGrad no_grad;
    fake = s.model->forward(Variable(x)).data().contiguous();
  }
  const IntegerModel first(*s.model, load_packed(s.path.string()));
  const Tensor logits = first.forward(x);
  ASSERT_EQ(logits.shape(), fake.shape());
  // An activation within float rounding of a rounding boundary of its grid may get the neighbouring
  // code in one of the two computations; that is rare.
  EXPECT_LE(differing_rows(logits, fake), 4) << "of 64 images";
  const IntegerModel second(*s.model, load_packed(s.path.string()));
  EXPECT_EQ(second.forward(x).to_vector(), logits.to_vector()) << "re-read file, different logits";
  EXPECT_EQ(first.forward(x).to_vector(), logits.to_vector()) << "second run, different logits";
  fs::remove(s.path);
}

TEST(PackedModel, IntegerMobileNetV2MatchesFakeQuantizedEvaluation) {
  manual_seed(5);
  auto model = mobilenet_v2({.width = 0.25, .in_channels = 1, .num_classes = 10, .dropout = 0.2f});
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight.per_channel = true;
  quant::apply(*model, policy);
  Generator gen(6);
  {
    NoGrad no_grad;
    for (int i = 0; i < 3; ++i) model->forward(Variable(gen.normal_tensor({16, 1, 12, 12})));
  }
  model->eval();
  const fs::path path = temp_file("mobilenet.h5");
  save_packed(pack_model(*model, "name: \"mobilenet\""), path.string());
  const Tensor x = gen.normal_tensor({64, 1, 12, 12});
  Tensor fake;
  {
    NoGrad no_grad;
    fake = model->forward(Variable(x)).data().contiguous();
  }
  const Tensor logits = IntegerModel(*model, load_packed(path.string())).forward(x);
  ASSERT_EQ(logits.shape(), fake.shape());
  EXPECT_LE(differing_rows(logits, fake), 4) << "of 64 images";
  fs::remove(path);
}

// conv → BN → ReLU6 → conv in a Sequential (after a convolution of the float image): the first writes the
// second one's input codes
// with ReLU6 mapped onto that grid; its pre-activations reach far past 6 and the 8-bit grid of the second
// convolution's input extends past 6, so the clipping shows in the codes.
TEST(PackedModel, Relu6BeforeAQuantizedLayerClipsOnItsGrid) {
  manual_seed(8);
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in = 1, .out = 16, .kernel = 3, .padding = 1});
  Variable weight = conv->weight();
  weight.set_data(Generator(9).normal_tensor(weight.shape(), 0.0f, 10.0f));
  Sequential model;
  model.add("c0",
            std::make_shared<Conv2d>(Conv2dOptions{.in = 1, .out = 1, .kernel = 1}));  // reads the image
  model.add("c1", conv);
  model.add("b1", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = 16}));
  model.add("a1", std::make_shared<Activation>(ActivationKind::relu6));
  model.add("c2", std::make_shared<Conv2d>(Conv2dOptions{.in = 16, .out = 16, .kernel = 3, .padding = 1}));
  model.add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model.add("flatten", std::make_shared<Flatten>());
  QuantPolicy policy;
  policy.method = "lsq";
  policy.first_last_bits = 0;
  policy.weight_bits = policy.act_bits = 8;
  quant::apply(model, policy);
  model.eval();
  const Tensor x = Generator(10).normal_tensor({8, 1, 10, 10});
  Tensor fake;
  {
    NoGrad no_grad;
    fake = model.forward(Variable(x)).data().contiguous();
  }
  const PackedModel packed = pack_model(model, "");
  ASSERT_GT(packed.layer("c2").input->scale * packed.layer("c2").input->qmax, 6.0f);
  EXPECT_EQ(differing_rows(IntegerModel(model, packed).forward(x), fake), 0);
}

// Corruption is detected, never evaluated: a flipped byte (every k-th of the file, so that ~2,000 are
// tried) either fails the load naming the file or leaves integer inference's logits bit-identical.
TEST(PackedModel, AFlippedByteFailsTheLoadOrChangesNothing) {
  const Saved s = saved_model("flipped.h5");
  const fs::path copy = temp_file("flipped_copy.h5");
  const Tensor x = Generator(12).normal_tensor({4, 1, 12, 12});
  const std::vector<float> expected = IntegerModel(*s.model, s.packed).forward(x).to_vector();
  std::ifstream in(s.path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t stride = std::max<size_t>(1, bytes.size() / 2000);
  int detected = 0, tried = 0;
  for (size_t i = 0; i < bytes.size(); i += stride, ++tried) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x04);
    std::ofstream(copy, std::ios::binary | std::ios::trunc) << damaged;
    try {
      const PackedModel loaded = load_packed(copy.string());
      ASSERT_EQ(IntegerModel(*s.model, loaded).forward(x).to_vector(), expected)
          << "byte " << i << " of " << bytes.size() << " changed the model, undetected";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(copy.string()), std::string::npos) << e.what();
      ++detected;
    }
  }
  EXPECT_GT(detected, tried / 2);
  fs::remove(s.path);
  fs::remove(copy);
}

// Rewrites dataset or attribute `name` of `layer` in `path` through `change`.
void tamper(const fs::path& path, const std::string& layer, const std::function<void(hid_t)>& change) {
  hdf5::Quiet quiet;
  const hdf5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  const hdf5::Handle group(H5Gopen2(file.get(), ("layers/" + layer).c_str(), H5P_DEFAULT), H5Gclose);
  ASSERT_TRUE(group.valid());
  change(group.get());
}

TEST(PackedModel, TruncatedAndTamperedFilesNameFileLayerAndField) {
  const Saved s = saved_model("tampered.h5");
  const std::string path = s.path.string();
  const fs::path truncated = temp_file("truncated.h5");
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const std::string cut = test::error_of([&] { load_packed(truncated.string()); });
  EXPECT_NE(cut.find("packed model " + truncated.string()), std::string::npos) << cut;
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;

  tamper(s.path, "layer1_0.conv2", [](hid_t g) {
    H5Ldelete(g, "weight_scale", H5P_DEFAULT);
    hdf5::write_tensor(g, "weight_scale", Tensor::full({3}, 0.1f), "test");
  });
  const std::string shape = test::error_of([&] { load_packed(path); });
  EXPECT_NE(shape.find(path), std::string::npos) << shape;
  EXPECT_NE(shape.find("layer 'layer1_0.conv2': weight_scale has 3 elements for 16 output channels"),
            std::string::npos)
      << shape;

  const Saved t = saved_model("bits.h5");
  tamper(t.path, "layer2_0.conv1", [](hid_t g) {
    H5Adelete(g, "bits");
    hdf5::write_int_attribute(g, "bits", 11);
  });
  const std::string bits = test::error_of([&] { load_packed(t.path.string()); });
  EXPECT_NE(bits.find("packed model " + t.path.string() + ": layer 'layer2_0.conv1': bits 11 out of range"),
            std::string::npos)
      << bits;

  tamper(t.path, "layer2_0.conv1", [](hid_t g) {
    H5Adelete(g, "bits");
    hdf5::write_int_attribute(g, "bits", 2);
    H5Ldelete(g, "weight_codes", H5P_DEFAULT);
    hdf5::write_tensor(g, "weight_codes", Tensor::zeros({5}, DType::u8), "test");
  });
  const std::string codes = test::error_of([&] { load_packed(t.path.string()); });
  EXPECT_NE(codes.find("layer 'layer2_0.conv1': dataset 'weight_codes' has 5 elements, expected"),
            std::string::npos)
      << codes;
  fs::remove(s.path);
  fs::remove(t.path);
  fs::remove(truncated);
}

}  // namespace
}  // namespace qat
