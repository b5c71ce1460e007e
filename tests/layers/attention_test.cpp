// MultiHeadAttention against a double-precision hand loop and against the same computation composed
// from primitive ops; masking; gradient check of the whole layer (f32, eps 1e-2, atol 2e-3, rtol 1e-2).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "autograd/ops/softmax.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "layers/linear.h"
#include "layers/multi_head_attention.h"

namespace qat {
namespace {

constexpr int64_t kBatch = 2, kLength = 5, kHidden = 8, kHeads = 2, kHeadDim = kHidden / kHeads;

const Tensor& weight_of(const Module& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p.data();
  throw Error("no parameter " + name);
}

// Additive mask [B, 1, 1, T] hiding the last `padded[b]` keys of each sequence.
Tensor padding_mask(const std::vector<int64_t>& padded) {
  Tensor mask = Tensor::zeros({kBatch, 1, 1, kLength});
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t t = kLength - padded[b]; t < kLength; ++t) mask.data<float>()[b * kLength + t] = -1e9f;
  return mask;
}

// out(softmax(q·kᵀ/sqrt(d) + mask)·v) with plain loops in double.
std::vector<double> reference(const Module& mha, const Tensor& x, const Tensor& mask) {
  const float* xs = x.data<float>();
  const float* wqkv = weight_of(mha, "qkv.weight").data<float>();
  const float* bqkv = weight_of(mha, "qkv.bias").data<float>();
  const float* wo = weight_of(mha, "out.weight").data<float>();
  const float* bo = weight_of(mha, "out.bias").data<float>();
  std::vector<double> qkv(kBatch * kLength * 3 * kHidden), context(kBatch * kLength * kHidden);
  for (int64_t r = 0; r < kBatch * kLength; ++r)
    for (int64_t o = 0; o < 3 * kHidden; ++o) {
      double s = bqkv[o];
      for (int64_t i = 0; i < kHidden; ++i) s += double(xs[r * kHidden + i]) * wqkv[o * kHidden + i];
      qkv[r * 3 * kHidden + o] = s;
    }
  auto at = [&](int64_t b, int64_t t, int part, int64_t h, int64_t j) {
    return qkv[(b * kLength + t) * 3 * kHidden + part * kHidden + h * kHeadDim + j];
  };
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t h = 0; h < kHeads; ++h)
      for (int64_t i = 0; i < kLength; ++i) {
        std::vector<double> p(kLength);
        double top = -1e300, total = 0.0;
        for (int64_t j = 0; j < kLength; ++j) {
          double s = 0.0;
          for (int64_t c = 0; c < kHeadDim; ++c) s += at(b, i, 0, h, c) * at(b, j, 1, h, c);
          p[j] =
              s / std::sqrt(double(kHeadDim)) + (mask.defined() ? mask.data<float>()[b * kLength + j] : 0.0);
          top = std::max(top, p[j]);
        }
        for (double& e : p) total += (e = std::exp(e - top));
        for (int64_t c = 0; c < kHeadDim; ++c) {
          double s = 0.0;
          for (int64_t j = 0; j < kLength; ++j) s += p[j] / total * at(b, j, 2, h, c);
          context[(b * kLength + i) * kHidden + h * kHeadDim + c] = s;
        }
      }
  std::vector<double> out(kBatch * kLength * kHidden);
  for (int64_t r = 0; r < kBatch * kLength; ++r)
    for (int64_t o = 0; o < kHidden; ++o) {
      double s = bo[o];
      for (int64_t i = 0; i < kHidden; ++i) s += context[r * kHidden + i] * wo[o * kHidden + i];
      out[r * kHidden + o] = s;
    }
  return out;
}

// The PyTorch reference's formulation: view, permute, slice, matmul, softmax — one primitive op each.
Variable composed(const Variable& x, const Variable& wqkv, const Variable& bqkv, const Variable& wo,
                  const Variable& bo, const Tensor& mask) {
  const Variable parts =
      permute(reshape(linear(x, wqkv, bqkv), {kBatch, kLength, 3, kHeads, kHeadDim}), {2, 0, 3, 1, 4});
  auto part = [&](int i) { return reshape(slice(parts, 0, i, i + 1), {kBatch, kHeads, kLength, kHeadDim}); };
  Variable scores = matmul(part(0), part(1), false, true) / std::sqrt(float(kHeadDim));
  if (mask.defined()) scores = scores + Variable(mask);
  const Variable context = permute(matmul(softmax(scores, -1), part(2)), {0, 2, 1, 3});
  return linear(reshape(context, {kBatch, kLength, kHidden}), wo, bo);
}

// Keeps the last input it saw and passes it on.
class Recorder : public Module {
 public:
  Variable forward(const Variable& x) override {
    seen = x.data().contiguous();
    return x;
  }
  Tensor seen;
};

// Runs the wrapped Linear with a weight given from outside, as a quantization decorator would.
class WithWeight : public Module {
 public:
  WithWeight(std::shared_ptr<Linear> inner, Variable weight)
      : inner_(std::move(inner)), weight_(std::move(weight)) {}
  Variable forward(const Variable& x) override { return inner_->forward_with(x, weight_, inner_->bias()); }

 private:
  std::shared_ptr<Linear> inner_;
  Variable weight_;
};

std::shared_ptr<Linear> linear_child(const Module& m, const std::string& name) {
  for (const auto& [n, child] : m.children())
    if (n == name) return std::dynamic_pointer_cast<Linear>(child);
  return nullptr;
}

void expect_near(const std::vector<float>& actual, const std::vector<double>& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "at " << i;
}

void expect_near(const Tensor& actual, const Tensor& expected, double tol) {
  const std::vector<float> e = expected.to_vector();
  expect_near(actual.to_vector(), std::vector<double>(e.begin(), e.end()), tol);
}

Tensor input(uint64_t seed) { return Generator(seed).normal_tensor({kBatch, kLength, kHidden}); }

TEST(MultiHeadAttention, MatchesHandLoop) {
  manual_seed(3);
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  const Tensor x = input(1);
  expect_near(mha.forward(Variable(x)).data().to_vector(), reference(mha, x, Tensor()), 1e-4);
  const Tensor mask = padding_mask({2, 0});
  expect_near(mha.forward(Variable(x), mask).data().to_vector(), reference(mha, x, mask), 1e-4);
}

TEST(MultiHeadAttention, MatchesComposedOpsWithGradients) {
  manual_seed(4);
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  const Tensor mask = padding_mask({1, 3});
  const Variable x(input(2), true), x2(input(2), true);
  const Variable y = mha.forward(x, mask);
  auto params = mha.named_parameters();
  std::vector<Variable> copies;
  for (auto& [name, p] : params) copies.emplace_back(p.data().clone(), true);
  const Variable y2 = composed(x2, copies[0], copies[1], copies[2], copies[3], mask);
  expect_near(y.data(), y2.data(), 1e-5);
  const Tensor seed = Generator(9).normal_tensor(y.shape());
  y.backward(seed);
  y2.backward(seed);
  expect_near(x.grad(), x2.grad(), 1e-5);
  for (size_t i = 0; i < params.size(); ++i) {
    SCOPED_TRACE(params[i].first);
    expect_near(params[i].second.grad(), copies[i].grad(), 1e-5);
  }
}

TEST(MultiHeadAttention, PaddedKeysGetZeroProbability) {
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  auto probs = std::make_shared<Recorder>();
  mha.replace_child("probs_in", probs);
  mha.forward(Variable(input(3)), padding_mask({2, 1}));
  ASSERT_EQ(probs->seen.shape(), (Shape{kBatch, kHeads, kLength, kLength}));
  const float* p = probs->seen.data<float>();
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t row = 0; row < kHeads * kLength; ++row) {
      const float* r = p + (b * kHeads * kLength + row) * kLength;
      float total = 0.0f;
      for (int64_t j = 0; j < kLength; ++j) total += r[j];
      EXPECT_NEAR(total, 1.0f, 1e-5);
      for (int64_t j = kLength - (b == 0 ? 2 : 1); j < kLength; ++j) EXPECT_EQ(r[j], 0.0f);
      EXPECT_GT(r[0], 0.0f);
    }
}

TEST(MultiHeadAttention, PaddedPositionsDoNotChangeOthers) {
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  const Tensor mask = padding_mask({2, 2});
  Tensor x = input(4);
  const std::vector<float> before = mha.forward(Variable(x), mask).data().to_vector();
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t i = 0; i < kHidden; ++i) x.data<float>()[(b * kLength + kLength - 1) * kHidden + i] += 5.0f;
  const std::vector<float> after = mha.forward(Variable(x), mask).data().to_vector();
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t t = 0; t < kLength - 2; ++t)
      for (int64_t i = 0; i < kHidden; ++i) {
        const int64_t at = (b * kLength + t) * kHidden + i;
        EXPECT_NEAR(after[at], before[at], 1e-6) << "b " << b << " t " << t;
      }
}

TEST(MultiHeadAttention, TapsSeeTheProductOperands) {
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  std::vector<std::shared_ptr<Recorder>> taps;
  for (const char* name : {"q_in", "k_in", "v_in"}) {
    taps.push_back(std::make_shared<Recorder>());
    mha.replace_child(name, taps.back());
  }
  const Tensor x = input(5);
  mha.forward(Variable(x));
  // q, k, v are columns [0, H), [H, 2H), [2H, 3H) of the fused projection, split into heads.
  const Tensor qkv =
      linear(Variable(x), Variable(weight_of(mha, "qkv.weight")), Variable(weight_of(mha, "qkv.bias")))
          .data();
  for (int part = 0; part < 3; ++part) {
    ASSERT_EQ(taps[part]->seen.shape(), (Shape{kBatch, kHeads, kLength, kHeadDim}));
    for (int64_t b = 0; b < kBatch; ++b)
      for (int64_t h = 0; h < kHeads; ++h)
        for (int64_t t = 0; t < kLength; ++t)
          for (int64_t c = 0; c < kHeadDim; ++c)
            EXPECT_EQ(taps[part]->seen.data<float>()[((b * kHeads + h) * kLength + t) * kHeadDim + c],
                      qkv.data<float>()[(b * kLength + t) * 3 * kHidden + part * kHidden + h * kHeadDim + c]);
  }
}

TEST(MultiHeadAttention, RepeatedStepCreatesNoPrimitives) {
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  const Tensor mask = padding_mask({1, 0});
  auto step = [&] {
    for (auto& [name, parameter] : mha.named_parameters()) parameter.zero_grad();
    const Variable x(input(6), true);
    sum(mha.forward(x, mask)).backward();
  };
  step();
  const int64_t created = PrimitiveCache::get().created();
  step();
  EXPECT_EQ(PrimitiveCache::get().created(), created);
}

TEST(GradcheckMultiHeadAttention, InputAndWeights) {
  manual_seed(8);
  auto mha =
      std::make_shared<MultiHeadAttention>(MultiHeadAttentionOptions{.hidden = kHidden, .heads = kHeads});
  const auto qkv = linear_child(*mha, "qkv"), out = linear_child(*mha, "out");
  const Tensor mask = padding_mask({1, 2});
  auto f = [&](const std::vector<Variable>& in) {
    mha->replace_child("qkv", std::make_shared<WithWeight>(qkv, in[1]));
    mha->replace_child("out", std::make_shared<WithWeight>(out, in[2]));
    return mha->forward(in[0], mask);
  };
  EXPECT_EQ(gradcheck(f, {Generator(10).normal_tensor({kBatch, kLength, kHidden}, 0.0f, 0.5f),
                          qkv->weight().data(), out->weight().data()}),
            "");
}

TEST(MultiHeadAttention, BadInputsNameTheLayerAndShapes) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string heads = message([] { MultiHeadAttention({.hidden = 10, .heads = 4}); });
  EXPECT_NE(heads.find("MultiHeadAttention: hidden 10"), std::string::npos) << heads;
  EXPECT_NE(heads.find("heads 4"), std::string::npos) << heads;
  MultiHeadAttention mha({.hidden = kHidden, .heads = kHeads});
  const std::string shape = message([&] { mha.forward(Variable(Tensor::zeros({2, 5, 6}))); });
  EXPECT_NE(shape.find("MultiHeadAttention: input [2, 5, 6]"), std::string::npos) << shape;
  const std::string mask = message([&] {
    mha.forward(Variable(input(7)), Tensor::zeros({kBatch, 1, 1, kLength + 1}));
  });
  EXPECT_NE(mask.find("MultiHeadAttention: mask [2, 1, 1, 6]"), std::string::npos) << mask;
}

}  // namespace
}  // namespace qat
