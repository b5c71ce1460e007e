// Fuzz target: the checkpoint reader (HDF5 with checksummed datasets and metadata). A qat::Error is the
// expected answer to bad input; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "tests/fuzz/fuzz_input_file.h"
#include "trainers/checkpoint.h"

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's fixed entry point
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const qat::fuzz::InputFile file(data, size);
  try {
    qat::load_checkpoint(file.path());
  } catch (const qat::Error&) {
  }
  return 0;
}
