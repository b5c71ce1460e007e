#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/grad_mode.h"
#include "engine/random.h"

namespace qat {
namespace {

double projected(const Tensor& y, const std::vector<float>& w) {
  const std::vector<float> values = y.to_vector();
  double sum = 0.0;
  for (size_t i = 0; i < values.size(); ++i) sum += static_cast<double>(values[i]) * w[i];
  return sum;
}

bool checked(int index, const Tensor& t, const GradcheckOptions& options) {
  return t.dtype() == DType::f32 &&
         std::find(options.skip.begin(), options.skip.end(), index) == options.skip.end();
}

std::vector<Variable> as_variables(const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<Variable> vars;
  for (size_t i = 0; i < inputs.size(); ++i)
    vars.emplace_back(inputs[i], checked(static_cast<int>(i), inputs[i], options));
  return vars;
}

}  // namespace

std::string gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                      const GradcheckOptions& options) {
  std::vector<Tensor> work;
  for (const Tensor& t : inputs) work.push_back(t.clone());
  std::vector<Variable> vars = as_variables(work, options);
  const Variable out = f(vars);
  Generator gen(options.seed);
  const Tensor w = gen.normal_tensor(out.shape());
  const std::vector<float> weights = w.to_vector();
  out.backward(w);

  NoGrad no_grad;
  std::ostringstream report;
  double worst = 0.0;
  for (size_t i = 0; i < work.size(); ++i) {
    if (!checked(static_cast<int>(i), work[i], options)) continue;
    const Tensor analytic_tensor = vars[i].grad();
    const std::vector<float> analytic =
        analytic_tensor.defined() ? analytic_tensor.to_vector() : std::vector<float>(work[i].numel(), 0.0f);
    float* x = work[i].data<float>();
    for (int64_t j = 0; j < work[i].numel(); ++j) {
      const float saved = x[j];
      x[j] = static_cast<float>(saved + options.eps);
      const double plus = projected(f(as_variables(work, options)).data(), weights);
      x[j] = static_cast<float>(saved - options.eps);
      const double minus = projected(f(as_variables(work, options)).data(), weights);
      x[j] = saved;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double error = std::abs(numeric - analytic[j]);
      const double excess = error - (options.atol + options.rtol * std::abs(numeric));
      if (excess > 0 && excess > worst) {
        worst = excess;
        report.str("");
        report << "input " << i << " " << work[i].str() << " element " << j << ": analytic " << analytic[j]
               << ", numeric " << numeric << " (|diff| " << error << ")";
      }
    }
  }
  return report.str();
}

}  // namespace qat
