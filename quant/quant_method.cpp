#include "quant/quant_method.h"

#include "engine/error.h"
#include "quant/quantizers/dorefa_quantizer.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/minmax_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "quant/quantizers/pact_quantizer.h"
#include "quant/quantizers/record_quantizer.h"
#include "quant/quantizers/symmetric_minmax_quantizer.h"

namespace qat {
namespace {

template <typename Q, typename... Args>
std::shared_ptr<Quantizer> make(const QuantizerOptions& options, Args... args) {
  return std::make_shared<Q>(options, args...);
}

bool is_weight(const QuantizerOptions& options) { return options.target == QuantTarget::weight; }

// A post-training row's quantizers: the record of the method's result for weights, min-max for inputs.
std::shared_ptr<Quantizer> record_or_minmax(const QuantizerOptions& o) {
  return is_weight(o) ? make<RecordQuantizer>(o) : make<MinMaxQuantizer>(o);
}

}  // namespace

const std::vector<QuantMethod>& quant_methods() {
  // name, factory, per-channel weights, learned bits, signed codes, post-training.
  static const std::vector<QuantMethod> methods{
      {"nipq", [](const QuantizerOptions& o) { return make<NipqQuantizer>(o); }, true, true, true, false},
      {"lsq", [](const QuantizerOptions& o) { return make<LsqQuantizer>(o, false); }, true, false, true,
       false},
      {"lsq_plus", [](const QuantizerOptions& o) { return make<LsqQuantizer>(o, true); }, true, false, false,
       false},
      {"pact",
       [](const QuantizerOptions& o) {
         return is_weight(o) ? make<DorefaQuantizer>(o) : make<PactQuantizer>(o);
       },
       false, false, true, false},
      {"dorefa", [](const QuantizerOptions& o) { return make<DorefaQuantizer>(o); }, false, false, false,
       false},
      {"minmax", [](const QuantizerOptions& o) { return make<MinMaxQuantizer>(o); }, true, false, false,
       false},
      {"minmax_sym", [](const QuantizerOptions& o) { return make<SymmetricMinMaxQuantizer>(o); }, true, false,
       true, false},
      {"rtn", record_or_minmax, true, false, false, true},
      {"optq", record_or_minmax, true, false, false, true},
      {"quip", record_or_minmax, true, false, false, true},
      {"sinq", record_or_minmax, true, false, false, true},
      {"baq", record_or_minmax, true, false, false, true},
  };
  return methods;
}

std::string quant_method_names(bool (*has)(const QuantMethod&)) {
  std::string names;
  for (const QuantMethod& m : quant_methods())
    if (!has || has(m)) names += (names.empty() ? "" : ", ") + std::string(m.name);
  return names;
}

const QuantMethod& quant_method(const std::string& name, const std::string& field,
                                bool (*has)(const QuantMethod&)) {
  for (const QuantMethod& m : quant_methods())
    if (name == m.name && (!has || has(m))) return m;
  detail::fail(field, ": unknown method '", name, "' (known: ", quant_method_names(has), ")");
}

std::shared_ptr<Quantizer> make_quantizer(const std::string& method, const QuantizerOptions& options) {
  return quant_method(method).make(options);
}

}  // namespace qat
