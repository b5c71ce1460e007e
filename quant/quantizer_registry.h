#pragma once
// The one place that maps a method name to its quantizer classes (no static self-registration).
#include <memory>
#include <string>
#include <vector>

#include "quant/quantizer.h"

namespace qat {

/// The quantizer of `method` for `options.target` ("pact" quantizes weights with DoReFa, "lsq_plus"
/// weights with LSQ); errors list the known methods.
std::shared_ptr<Quantizer> make_quantizer(const std::string& method, const QuantizerOptions& options);
/// Every method make_quantizer knows.
const std::vector<std::string>& quantization_methods();

}  // namespace qat
