#include "engine/random.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "engine/error.h"

namespace qat {

float Generator::uniform() {
  // 24 random mantissa bits give every float in [0, 1) on a 2^-24 grid, never 1.
  return static_cast<float>(engine_() >> 40) * (1.0f / 16777216.0f);
}

float Generator::normal() {
  // Box-Muller on two uniforms; 1 - u keeps the logarithm finite.
  const double u1 = 1.0 - static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

int64_t Generator::below(int64_t n) {
  QAT_CHECK(n > 0, "Generator::below: n must be positive, got ", n);
  return static_cast<int64_t>(engine_() % static_cast<uint64_t>(n));
}

Tensor Generator::uniform_tensor(const Shape& shape, float lo, float hi) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(lo, hi);
  return t;
}

Tensor Generator::normal_tensor(const Shape& shape, float mean, float stddev) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = mean + stddev * normal();
  return t;
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream in(state);
  in >> engine_;
  QAT_CHECK(!in.fail(), "Generator::set_state: malformed state string");
}

Generator& global_generator() {
  static Generator instance(0);
  return instance;
}

void manual_seed(uint64_t seed) { global_generator() = Generator(seed); }

}  // namespace qat
