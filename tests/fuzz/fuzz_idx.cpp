// Fuzz target: the IDX reader (gzip or plain) with the rank a plain file's magic number asks for (1 to 3;
// else 1). A qat::Error
// is the expected answer to bad input; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "datasets/idx_file.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_input_file.h"

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's fixed entry point
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const qat::fuzz::InputFile file(data, size);
  try {
    const int rank = size > 3 && data[3] >= 1 && data[3] <= 3 ? data[3] : 1;
    qat::read_idx(file.path(), rank);
  } catch (const qat::Error&) {
  }
  return 0;
}
