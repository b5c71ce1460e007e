#pragma once
// Small helpers shared by the quantizer tests.
#include <cmath>
#include <string>
#include <vector>

#include "engine/error.h"
#include "layers/module.h"
#include "quant/quant_method.h"
#include "tests/test_util.h"

namespace qat::test {

/// The parameter `name` of a module; throws when it has none of that name.
inline Variable parameter(const Module& module, const std::string& name) {
  for (const auto& [n, p] : module.named_parameters())
    if (n == name) return p;
  throw Error("test: no parameter '" + name + "'");
}

/// Σ a·b in double over two tensors of equal size.
inline double dot(const Tensor& a, const Tensor& b) {
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  double sum = 0.0;
  for (size_t i = 0; i < va.size(); ++i) sum += static_cast<double>(va[i]) * vb[i];
  return sum;
}

/// The name of every quantization-aware row of the method table (the post-training rows' record quantizer
/// holds a record instead of quantizing its input: tests/quant/record_quantizer_test.cpp).
inline std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const QuantMethod& m : quant_methods())
    if (is_quantization_aware(m)) names.emplace_back(m.name);
  return names;
}

/// softplus⁻¹(α): the raw truncation whose softplus is α.
inline float softplus_inverse(double alpha) { return static_cast<float>(std::log(std::expm1(alpha))); }

}  // namespace qat::test
