#pragma once
// Generator: the seeded random source every stochastic component draws from (determinism by seed).
#include <cstdint>
#include <random>
#include <string>

#include "engine/tensor.h"

namespace qat {

/// A seeded 64-bit Mersenne Twister with helpers; its state can be saved and restored for resume.
class Generator {
 public:
  /// Seeds the generator.
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  /// Next raw 64-bit value.
  uint64_t next() { return engine_(); }
  /// Uniform float in [0, 1).
  float uniform();
  /// Uniform float in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal float.
  float normal();
  /// Uniform integer in [0, n).
  int64_t below(int64_t n);
  /// Plain f32 tensor of uniform values in [lo, hi).
  Tensor uniform_tensor(const Shape& shape, float lo, float hi);
  /// Plain f32 tensor of normal values.
  Tensor normal_tensor(const Shape& shape, float mean = 0.0f, float stddev = 1.0f);
  /// Serialized state (for checkpoints).
  std::string state() const;
  /// Restores a state produced by state().
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

/// The process-wide generator used for parameter initialization; reseed it for determinism.
Generator& global_generator();
/// Reseeds the process-wide generator.
void manual_seed(uint64_t seed);
/// SplitMix64's finalizer: turns structured values (seed, epoch, index) into well-spread generator seeds.
constexpr uint64_t mix_seed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace qat
