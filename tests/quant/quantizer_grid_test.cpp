// Evaluation outputs lie exactly on the quantizer's integer grid, which export relies on: for every
// element, (y − offset[c])/scale[c] is an integer code in [qmin, qmax] (within 1e-3 code units), for every
// method of make_quantizer, weights (per tensor and per channel where allowed) and activations (unsigned
// and signed inputs), at 2, 3, 4 and 8 bits. The learned scalars are moved off their initial values first,
// and the evaluation batch is wider than the initialization batch so that some elements are clipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/random.h"
#include "quant/quant_method.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

struct GridCase {
  QuantTarget target;
  bool per_channel;
  bool signed_input;
  const char* label;
};

constexpr int64_t kChannels = 6;

Tensor batch(const GridCase& gc, Generator& gen, float spread) {
  if (gc.target == QuantTarget::weight) return gen.normal_tensor({kChannels, 20}, 0.0f, 0.3f * spread);
  Tensor x = gen.normal_tensor({8, 50}, 0.0f, 2.0f * spread);
  if (!gc.signed_input)
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::max(x.data<float>()[i], 0.0f);
  return x;
}

// Checks every element of y against the grid; returns the number of distinct codes used.
size_t expect_on_grid(const Tensor& y, const QuantGrid& grid, int64_t channels, const std::string& what) {
  EXPECT_EQ(grid.scale.size(), static_cast<size_t>(channels)) << what;
  EXPECT_EQ(grid.offset.size(), static_cast<size_t>(channels)) << what;
  if (grid.scale.size() != static_cast<size_t>(channels) || grid.offset.size() != grid.scale.size()) return 0;
  const std::vector<float> values = y.to_vector();
  const int64_t inner = static_cast<int64_t>(values.size()) / channels;
  std::set<int64_t> codes;
  int64_t bad = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) / inner;
    const double code = (static_cast<double>(values[i]) - grid.offset[c]) / grid.scale[c];
    const double rounded = std::nearbyint(code);
    const bool ok = std::abs(code - rounded) <= 1e-3 && rounded >= grid.qmin && rounded <= grid.qmax;
    if (!ok && bad++ == 0)
      ADD_FAILURE() << what << ": element " << i << " = " << values[i] << " is code " << code << ", grid "
                    << grid.qmin << ".." << grid.qmax << " scale " << grid.scale[c] << " offset "
                    << grid.offset[c];
    codes.insert(static_cast<int64_t>(rounded));
  }
  EXPECT_EQ(bad, 0) << what;
  return codes.size();
}

TEST(QuantizerGrid, EvaluationOutputIsOnTheIntegerGrid) {
  const GridCase cases[] = {{QuantTarget::weight, false, true, "weight per-tensor"},
                            {QuantTarget::weight, true, true, "weight per-channel"},
                            {QuantTarget::activation, false, false, "activation unsigned"},
                            {QuantTarget::activation, false, true, "activation signed"}};
  int64_t checked = 0;
  for (const std::string& method : test::method_names())
    for (int bits : {2, 3, 4, 8})
      for (const GridCase& gc : cases) {
        const std::string what = method + " " + gc.label + " " + std::to_string(bits) + " bits";
        const QuantizerOptions options{.target = gc.target,
                                       .bits = bits,
                                       .per_channel = gc.per_channel,
                                       .channels = kChannels,
                                       .is_signed = std::nullopt};
        const QuantMethod& row = quant_method(method);
        if (gc.per_channel && !row.per_channel_weights) {
          EXPECT_THROW(make_quantizer(method, options), Error) << what;
          continue;
        }
        Generator gen(100 + bits);
        const auto q = make_quantizer(method, options);
        q->forward(Variable(batch(gc, gen, 1.0f)));
        for (auto& [name, p] : q->named_parameters())  // leave the initial values (the bit-width stays)
          if (name != "theta") {
            std::vector<float> moved = p.data().to_vector();
            for (float& v : moved) v *= gen.uniform(0.7f, 1.3f);
            p.set_data(Tensor::from_vector(p.shape(), moved));
          }
        q->eval();
        const Tensor y = q->forward(Variable(batch(gc, gen, 1.5f))).data();
        const QuantGrid grid = q->grid();
        EXPECT_EQ(grid.bits, bits) << what;
        EXPECT_EQ(q->bits(), bits) << what;
        EXPECT_EQ(q->is_signed(), gc.signed_input) << what;  // weights signed, activations by the first batch
        // The row of the quantizer built ("pact" weights are DoReFa's): signed codes exactly when signed.
        if (quant_method(q->method()).signed_codes) {
          EXPECT_EQ(grid.qmin < 0, gc.signed_input) << what;
        }
        const size_t used = expect_on_grid(y, grid, gc.per_channel ? kChannels : 1, what);
        EXPECT_GE(used, 2u) << what << ": degenerate output";
        ++checked;
      }
  const auto per_tensor_only =
      std::count_if(quant_methods().begin(), quant_methods().end(),
                    [](const QuantMethod& m) { return is_quantization_aware(m) && !m.per_channel_weights; });
  EXPECT_EQ(checked, static_cast<int64_t>(test::method_names().size() * 4 * 4 - per_tensor_only * 4));
}

}  // namespace
}  // namespace qat
