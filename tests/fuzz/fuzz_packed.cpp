// Fuzz target: the packed-model reader (HDF5; every field the format relies on is required and
// validated). A qat::Error is the expected answer to bad input; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "quant/export/packed_file.h"
#include "tests/fuzz/fuzz_input_file.h"

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's fixed entry point
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const qat::fuzz::InputFile file(data, size);
  try {
    qat::load_packed(file.path());
  } catch (const qat::Error&) {
  }
  return 0;
}
