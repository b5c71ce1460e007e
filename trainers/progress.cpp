#include "trainers/progress.h"

#include <unistd.h>

#include <cstdio>

namespace qat {
namespace {

// Plain (non-terminal) output prints at most one line every this many seconds.
constexpr double kPlainInterval = 30.0;

}  // namespace

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::step(double loss, int64_t samples) {
  ++done_;
  samples_ += samples;
  loss_ = loss;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if ((tty_ && since > 0.2) || (!tty_ && since > kPlainInterval)) {
    last_print_ = now;
    print(false);
  }
}

void Progress::finish() { print(true); }

void Progress::print(bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? samples_ / elapsed : 0.0;
  const double eta = done_ > 0 ? elapsed / done_ * (total_ - done_) : 0.0;
  std::fprintf(stderr, "%s%s %lld/%lld loss %.4f  %.0f samples/s  %s %.0fs%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_), loss_, rate,
               final ? "took" : "eta", final ? elapsed : eta, tty_ && !final ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace qat
