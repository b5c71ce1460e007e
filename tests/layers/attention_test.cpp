// Multi-head self-attention against a loop-by-loop reference, its masking, and a finite-difference
// gradient check (tolerances: gradcheck's defaults, eps 1e-2, atol 2e-3, rtol 1e-2).
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "engine/error.h"
#include "engine/random.h"
#include "layers/multi_head_attention.h"

namespace qat {
namespace {

// softmax(q·kᵀ/sqrt(d))·v per head from the fused qkv projection, then the output projection, in doubles.
std::vector<double> reference(MultiHeadAttention& attention, const Tensor& x, int64_t heads,
                              const std::vector<bool>& hidden_key) {
  std::map<std::string, Tensor> p = attention.state_dict();
  const int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2), d = H / heads;
  const std::vector<float> xs = x.to_vector(), wqkv = p["qkv.weight"].to_vector(),
                           bqkv = p["qkv.bias"].to_vector(), wo = p["out.weight"].to_vector(),
                           bo = p["out.bias"].to_vector();
  std::vector<double> qkv(B * T * 3 * H), context(B * T * H, 0.0), out(B * T * H);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t o = 0; o < 3 * H; ++o) {
      double s = bqkv[o];
      for (int64_t i = 0; i < H; ++i) s += wqkv[o * H + i] * static_cast<double>(xs[r * H + i]);
      qkv[r * 3 * H + o] = s;
    }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < T; ++i) {
        std::vector<double> score(T);
        double top = -1e300, total = 0.0;
        for (int64_t j = 0; j < T; ++j) {
          double s = 0.0;
          for (int64_t c = 0; c < d; ++c)
            s += qkv[(b * T + i) * 3 * H + h * d + c] * qkv[(b * T + j) * 3 * H + H + h * d + c];
          score[j] = hidden_key[b * T + j] ? -1e300 : s / std::sqrt(static_cast<double>(d));
          top = std::max(top, score[j]);
        }
        for (double& s : score) total += (s = std::exp(s - top));
        for (int64_t j = 0; j < T; ++j)
          for (int64_t c = 0; c < d; ++c)
            context[(b * T + i) * H + h * d + c] +=
                score[j] / total * qkv[(b * T + j) * 3 * H + 2 * H + h * d + c];
      }
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t o = 0; o < H; ++o) {
      double s = bo[o];
      for (int64_t i = 0; i < H; ++i) s += wo[o * H + i] * context[r * H + i];
      out[r * H + o] = s;
    }
  return out;
}

TEST(MultiHeadAttention, MatchesReference) {
  manual_seed(1);
  MultiHeadAttention attention({.hidden = 8, .heads = 2});
  const Tensor x = Generator(2).normal_tensor({2, 5, 8});
  const std::vector<float> got = attention.forward(Variable(x)).data().to_vector();
  const std::vector<double> want = reference(attention, x, 2, std::vector<bool>(10, false));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(MultiHeadAttention, MaskedKeysGetNoWeight) {
  manual_seed(1);
  MultiHeadAttention attention({.hidden = 8, .heads = 2});
  Tensor x = Generator(3).normal_tensor({1, 4, 8});
  Tensor mask = Tensor::zeros({1, 1, 1, 4});
  mask.data<float>()[3] = -1e9f;  // hide position 3
  const std::vector<float> got = attention.forward(Variable(x), mask).data().to_vector();
  const std::vector<double> want = reference(attention, x, 2, {false, false, false, true});
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  for (int64_t c = 0; c < 8; ++c)
    x.data<float>()[3 * 8 + c] += 5.0f;  // what the hidden key holds is irrelevant
  const std::vector<float> again = attention.forward(Variable(x), mask).data().to_vector();
  for (size_t i = 0; i < 3 * 8; ++i) EXPECT_NEAR(again[i], got[i], 1e-5) << i;
}

TEST(MultiHeadAttention, GradientMatchesFiniteDifferences) {
  manual_seed(4);
  MultiHeadAttention attention({.hidden = 4, .heads = 2});
  const std::string failure =
      gradcheck([&](const std::vector<Variable>& in) { return attention.forward(in[0]); },
                {Generator(5).normal_tensor({2, 3, 4}, 0.0f, 0.5f)});
  EXPECT_EQ(failure, "");
}

TEST(MultiHeadAttention, BadShapesNameTheLayer) {
  EXPECT_THROW(MultiHeadAttention({.hidden = 6, .heads = 4}), Error);
  MultiHeadAttention attention({.hidden = 8, .heads = 2});
  try {
    attention.forward(Variable(Tensor::zeros({2, 3, 6})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MultiHeadAttention"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3, 6]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
