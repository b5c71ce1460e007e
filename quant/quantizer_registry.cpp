#include "quant/quantizer_registry.h"

#include "engine/error.h"
#include "quant/quantizers/dorefa_quantizer.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/minmax_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "quant/quantizers/pact_quantizer.h"

namespace qat {

const std::vector<std::string>& quantization_methods() {
  static const std::vector<std::string> methods{"nipq", "lsq", "lsq_plus", "pact", "dorefa", "minmax"};
  return methods;
}

std::shared_ptr<Quantizer> make_quantizer(const std::string& method, const QuantizerOptions& options) {
  const bool weight = options.target == QuantTarget::weight;
  if (method == "nipq") return std::make_shared<NipqQuantizer>(options);
  if (method == "lsq") return std::make_shared<LsqQuantizer>(options, false);
  if (method == "lsq_plus") return std::make_shared<LsqQuantizer>(options, true);
  if (method == "pact" && !weight) return std::make_shared<PactQuantizer>(options);
  if (method == "pact" || method == "dorefa") return std::make_shared<DorefaQuantizer>(options);
  if (method == "minmax") return std::make_shared<MinMaxQuantizer>(options);
  detail::fail("quant.method: unknown method '", method,
               "' (known: nipq, lsq, lsq_plus, pact, dorefa, minmax)");
}

}  // namespace qat
