#pragma once
// GradMode: whether ops record tape nodes on this thread.

namespace qat {

/// Thread-local switch for recording the tape.
class GradMode {
 public:
  /// True when ops record nodes.
  static bool enabled();
  /// Turns recording on or off.
  static void set_enabled(bool enabled);
};

/// RAII guard that turns recording off for its scope (evaluation, optimizer updates).
class NoGrad {
 public:
  NoGrad() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGrad() { GradMode::set_enabled(previous_); }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace qat
