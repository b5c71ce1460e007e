#include "autograd/ops/loss.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/error.h"

// Eigen vectorizes exp (AVX-512 here). GCC 12 flags its _mm512_undefined_* intrinsics as (maybe)
// uninitialized once inlined (GCC bug 105593), so those warnings are off for Eigen's code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop

namespace qat {
namespace {

using Row = Eigen::Map<const Eigen::ArrayXf>;
using MutableRow = Eigen::Map<Eigen::ArrayXf>;

// Validates shapes and every target; returns how many rows count towards the mean.
int64_t counted_rows(const Variable& logits, const Tensor& targets, float label_smoothing, int ignore_index) {
  QAT_CHECK(logits.ndim() == 2 && logits.data().dtype() == DType::f32, "cross_entropy: logits ", logits.str(),
            " must be f32 [N, C]");
  QAT_CHECK(targets.defined() && targets.dtype() == DType::s32 && targets.shape() == Shape{logits.dim(0)},
            "cross_entropy: targets ", targets.str(), " must be s32 [", logits.dim(0), "] for logits ",
            logits.str());
  QAT_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, "cross_entropy: label_smoothing ",
            label_smoothing, " outside [0, 1] for logits ", logits.str());
  const Tensor plain = targets.contiguous();
  const int32_t* t = plain.data<int32_t>();
  const int64_t classes = logits.dim(1);
  int64_t count = 0;
  for (int64_t i = 0; i < targets.numel(); ++i) {
    if (t[i] == ignore_index) continue;
    QAT_CHECK(t[i] >= 0 && t[i] < classes, "cross_entropy: target ", t[i], " of row ", i,
              " is out of range for logits ", logits.str(), " (", classes, " classes)");
    ++count;
  }
  return count;
}

// What the backward needs: logits [N, C], targets [N] and each row's log-sum-exp.
struct Saved {
  Tensor logits;
  Tensor targets;
  Tensor lse;
  float eps;
  int ignore_index;
};

// Fills `saved.lse` and returns the summed row losses, added in row order so that the result does not
// depend on the thread count.
double forward_rows(const Saved& saved) {
  const int64_t rows = saved.logits.dim(0);
  const int64_t classes = saved.logits.dim(1);
  const float* x = saved.logits.data<float>();
  const int32_t* t = saved.targets.data<int32_t>();
  float* lse = saved.lse.data<float>();
  const float eps = saved.eps;
  std::vector<double> row_loss(rows, 0.0);
#pragma omp parallel for if (rows * classes > 65536)
  for (int64_t i = 0; i < rows; ++i) {
    if (t[i] == saved.ignore_index) continue;
    const Row row(x + i * classes, classes);
    const float max = row.maxCoeff();
    lse[i] = max + std::log((row - max).exp().sum());
    row_loss[i] = (1.0f - eps) * (lse[i] - row[t[i]]) + eps * (lse[i] - row.mean());
  }
  return std::accumulate(row_loss.begin(), row_loss.end(), 0.0);
}

// d/dx_c = (p_c − (1 − ε)·[c = target] − ε/C) · scale, zero on ignored rows.
Tensor backward_rows(const Saved& saved, float scale) {
  const int64_t rows = saved.logits.dim(0);
  const int64_t classes = saved.logits.dim(1);
  const float* x = saved.logits.data<float>();
  const int32_t* t = saved.targets.data<int32_t>();
  const float* lse = saved.lse.data<float>();
  const float eps = saved.eps;
  Tensor dx = Tensor::empty({rows, classes});
  float* pdx = dx.data<float>();
#pragma omp parallel for if (rows * classes > 65536)
  for (int64_t i = 0; i < rows; ++i) {
    MutableRow out(pdx + i * classes, classes);
    if (t[i] == saved.ignore_index) {
      out.setZero();
      continue;
    }
    out = ((Row(x + i * classes, classes) - lse[i]).exp() - eps / classes) * scale;
    out[t[i]] -= (1.0f - eps) * scale;
  }
  return dx;
}

}  // namespace

Variable cross_entropy(const Variable& logits, const Tensor& targets, float label_smoothing,
                       int ignore_index) {
  const int64_t count = counted_rows(logits, targets, label_smoothing, ignore_index);
  const Saved saved{logits.data().contiguous(), targets.contiguous(), Tensor::empty({logits.dim(0)}),
                    label_smoothing, ignore_index};
  const double total = forward_rows(saved);
  const float mean = count > 0 ? static_cast<float>(total / count) : std::numeric_limits<float>::quiet_NaN();
  return Variable::record("cross_entropy", Tensor::full({}, mean), {logits},
                          [saved, count](const Tensor& g) -> std::vector<Tensor> {
                            return {backward_rows(saved, count > 0 ? g.item() / count : 0.0f)};
                          });
}

}  // namespace qat
