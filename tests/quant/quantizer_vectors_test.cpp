// Cross-checks every quantizer against tests/data/quantizer_vectors.json: 40 cases whose outputs and
// gradients PyTorch autograd computed in float64 from METHODS.md (generator and README in
// /work/shared/testdata). Each case runs forward, then backward with the case's upstream gradient g.
// Tolerance per array (float32 against float64): |got − ref| ≤ 1e-5·max|ref| + 1e-6; a null gradient is 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "quant/quantizers/dorefa_quantizer.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "quant/quantizers/pact_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

using nlohmann::json;

const json& vectors() {
  static const json data = [] {
    std::ifstream in(std::string(QAT_SOURCE_DIR) + "/tests/data/quantizer_vectors.json");
    if (!in) throw Error("quantizer_vectors.json: cannot open tests/data/quantizer_vectors.json");
    return json::parse(in);
  }();
  return data;
}

void flatten(const json& j, std::vector<double>& out) {
  if (!j.is_array()) return out.push_back(j.get<double>());
  for (const json& e : j) flatten(e, out);
}

std::vector<double> doubles(const json& j) {
  std::vector<double> out;
  flatten(j, out);
  return out;
}

Tensor tensor_of(const json& j, const Shape& shape) {
  const std::vector<double> v = doubles(j);
  return Tensor::from_vector(shape, std::vector<float>(v.begin(), v.end()));
}

// A case's output and the leaves whose gradients the JSON lists (named as in its "grad" object).
struct CaseRun {
  std::shared_ptr<Module> owner;  // keeps a quantizer's parameters alive
  Variable y;
  std::vector<std::pair<std::string, Variable>> leaves;
};

// Builds the quantizer of a LSQ or PACT case, initializes it on x, then sets its scalar to the case's value.
CaseRun run_module(std::shared_ptr<Quantizer> q, const Variable& x, const char* param, const json& value) {
  q->forward(x);
  Variable scalar = test::parameter(*q, param);
  scalar.set_data(tensor_of(value, scalar.shape()));
  return {q, q->forward(x), {}};
}

CaseRun run_case(const json& c) {
  const std::string name = c["name"];
  const json& in = c["inputs"];
  const json& settings = c["settings"];
  const Shape shape = c["shape"].get<Shape>();
  const Variable x(tensor_of(in["x"], shape), true);
  CaseRun run;
  if (name.starts_with("lsq")) {
    const bool per_channel = settings["per_channel"];
    const QuantizerOptions options{.target = per_channel ? QuantTarget::weight : QuantTarget::activation,
                                   .bits = settings["bits"],
                                   .per_channel = per_channel,
                                   .channels = shape[0],
                                   .is_signed = settings["signed"].get<bool>()};
    auto q = std::make_shared<LsqQuantizer>(options, false);
    run = run_module(q, x, "step", in["s"]);
    run.leaves = {{"s", test::parameter(*q, "step")}};
  } else if (name.starts_with("pact")) {
    auto q = std::make_shared<PactQuantizer>(
        QuantizerOptions{.target = QuantTarget::activation, .bits = settings["bits"], .is_signed = false});
    run = run_module(q, x, "alpha", in["alpha"]);
    run.leaves = {{"alpha", test::parameter(*q, "alpha")}};
  } else if (name.starts_with("dorefa")) {
    run.y = dorefa_weight(x, settings["bits"]);
  } else if (name.starts_with("nipq")) {
    const Variable a_raw(tensor_of(in["a_raw"], {1}), true), theta(tensor_of(in["theta"], {1}), true);
    const bool noise = settings["training"];
    NipqDraws draws;
    if (noise) {
      draws.jitter = static_cast<float>(doubles(in["u"]).at(0));
      draws.noise = tensor_of(in["eps"], shape);
    }
    const NipqSettings nipq{
        .is_signed = settings["signed"], .noise = noise, .histogram = true, .bits_min = 2, .bits_max = 14};
    run.y = nipq_quantize(x, a_raw, theta, nipq, draws);
    run.leaves = {{"a_raw", a_raw}, {"theta", theta}};
  } else {
    throw Error("quantizer_vectors.json: unknown case " + name);
  }
  run.leaves.insert(run.leaves.begin(), {"x", x});
  return run;
}

void expect_close(const std::vector<float>& got, const json& expected, const std::string& what) {
  const std::vector<double> ref =
      expected.is_null() ? std::vector<double>(got.size(), 0.0) : doubles(expected);
  ASSERT_EQ(got.size(), ref.size()) << what;
  double scale = 0.0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  const double tol = 1e-5 * scale + 1e-6;
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < ref.size(); ++i)
    if (std::abs(got[i] - ref[i]) > tol && bad++ == 0) first = static_cast<int64_t>(i);
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << ref.size() << " elements off by more than " << tol
                    << ", first at " << first << ": got " << (first >= 0 ? got[first] : 0.0f) << ", expected "
                    << (first >= 0 ? ref[first] : 0.0);
}

class QuantizerVectors : public ::testing::TestWithParam<int> {};

TEST_P(QuantizerVectors, OutputAndGradientsMatchReference) {
  const json& c = vectors()["cases"][GetParam()];
  const std::string name = c["name"];
  const CaseRun run = run_case(c);
  expect_close(run.y.data().to_vector(), c["y"], name + " y");
  run.y.backward(tensor_of(c["g"], run.y.shape()));
  ASSERT_EQ(run.leaves.size(), c["grad"].size()) << name;
  for (const auto& [key, leaf] : run.leaves) {
    ASSERT_TRUE(c["grad"].contains(key)) << name << ": no reference gradient for " << key;
    const std::vector<float> got =
        leaf.grad().defined() ? leaf.grad().to_vector() : std::vector<float>(leaf.numel(), 0.0f);
    expect_close(got, c["grad"][key], name + " grad " + key);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, QuantizerVectors, ::testing::Range(0, 40),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return vectors()["cases"][info.param]["name"].get<std::string>();
                         });

TEST(QuantizerVectorsFile, HasEveryMethodAndBitWidth) {
  const json& cases = vectors()["cases"];
  ASSERT_EQ(cases.size(), 40u);
  std::set<std::string> names;
  for (const json& c : cases) names.insert(c["name"].get<std::string>());
  EXPECT_EQ(names.size(), 40u);
  for (int bits : {2, 3, 4, 8}) {
    const std::string b = std::to_string(bits);
    for (const std::string& name : {"lsq_weight_per_channel_w" + b, "lsq_act_unsigned_a" + b, "pact_a" + b,
                                    "dorefa_w" + b, "nipq_weight_b" + b + "_noise",
                                    "nipq_act_signed_b" + b + "_eval", "nipq_act_unsigned_b" + b + "_noise"})
      EXPECT_TRUE(names.count(name)) << name;
  }
}

}  // namespace
}  // namespace qat
