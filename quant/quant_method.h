#pragma once
// QuantMethod: the one table of quantization methods — name, quantizer factory and what each supports.
// The registry, every "known methods" list in errors, config validation and the tests read it; adding a
// method is its own files, one row and its tests (no static self-registration: linkers drop it).
// Quantization-aware rows are `quant.method`s; post-training rows are `ptq.method`s (qat ptq), whose weight
// quantizer is `record` (quant/quantizers/record_quantizer.h) holding the method's result. `record` itself
// has no row: it is what every post-training method leaves behind, not a method one can choose.
#include <memory>
#include <string>
#include <vector>

#include "quant/quantizer.h"

namespace qat {

/// Builds a method's quantizer for `options.target`.
using QuantizerFactory = std::shared_ptr<Quantizer> (*)(const QuantizerOptions& options);

/// One row of the method table.
struct QuantMethod {
  const char* name;          ///< config name ("nipq")
  QuantizerFactory make;     ///< the quantizer of a weight or an activation
  bool per_channel_weights;  ///< weights may take one scale per output channel
  bool learned_bits;         ///< the bit-width can be a trained parameter
  bool signed_codes;         ///< its quantizer gives a signed input negative codes, an unsigned one none
  bool post_training;  ///< a `ptq.method` (qat ptq): record weights, min-max inputs; else a `quant.method`
};

/// A row's kind: a method quantization-aware training learns.
inline bool is_quantization_aware(const QuantMethod& m) { return !m.post_training; }
/// A row's kind: a post-training method of qat ptq.
inline bool is_post_training(const QuantMethod& m) { return m.post_training; }

/// Every method, in the order error messages list them.
const std::vector<QuantMethod>& quant_methods();
/// The row of `name`; errors name `field` and list the known methods. With `has`, rows that fail it count as
/// unknown (e.g. a post-training method as `quant.method`).
const QuantMethod& quant_method(const std::string& name, const std::string& field = "quant.method",
                                bool (*has)(const QuantMethod&) = nullptr);
/// The names of the methods whose row satisfies `has` ("nipq, lsq, …"; all of them by default).
std::string quant_method_names(bool (*has)(const QuantMethod&) = nullptr);
/// The quantizer of `method` for `options.target` ("pact" quantizes weights with DoReFa, "lsq_plus"
/// weights with LSQ); errors list the known methods.
std::shared_ptr<Quantizer> make_quantizer(const std::string& method, const QuantizerOptions& options);

}  // namespace qat
