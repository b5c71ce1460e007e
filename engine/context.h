#pragma once
// Context: the process-wide oneDNN CPU engine and stream.
#include <oneapi/dnnl/dnnl.hpp>

namespace qat {

/// The oneDNN engine and in-order stream every kernel runs on.
class Context {
 public:
  /// The process-wide context (created on first use).
  static Context& get();
  /// The CPU engine.
  const dnnl::engine& engine() const { return engine_; }
  /// The stream kernels execute on.
  dnnl::stream& stream() { return stream_; }

 private:
  Context();
  dnnl::engine engine_;
  dnnl::stream stream_;
};

}  // namespace qat
