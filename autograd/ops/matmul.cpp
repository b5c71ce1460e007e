#include "autograd/ops/matmul.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/kernels/matmul.h"

namespace qat {
namespace {

// Sum over the rows of a [rows, cols] tensor: column blocks in parallel, rows added in order.
Tensor column_sums(const Tensor& m) {
  const int64_t rows = m.dim(0);
  const int64_t cols = m.dim(1);
  Tensor out = Tensor::zeros({cols});
  const float* src = m.data<float>();
  float* dst = out.data<float>();
  constexpr int64_t kBlock = 64;
#pragma omp parallel for if (rows * cols > 65536)
  for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
    const int64_t c1 = std::min(cols, c0 + kBlock);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = src + r * cols;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) dst[c] += row[c];
    }
  }
  return out;
}

// Sums a batched product gradient over the batch dims its operand broadcast along (1 or missing).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int ndim = grad.ndim();
  Shape target(ndim - shape.size(), 1);
  target.insert(target.end(), shape.begin(), shape.end());
  Shape target_strides = row_major_strides(target);
  for (int i = 0; i < ndim - 2; ++i)
    if (target[i] == 1) target_strides[i] = 0;
  Tensor out = Tensor::zeros(shape);
  const Tensor plain = grad.contiguous();
  const float* src = plain.data<float>();
  float* dst = out.data<float>();
  const int64_t matrix = grad.dim(-1) * grad.dim(-2);
  const int64_t batches = grad.numel() / std::max<int64_t>(matrix, 1);
  for (int64_t n = 0; n < batches; ++n) {
    int64_t offset = 0;
    for (int64_t i = ndim - 3, rest = n; i >= 0; --i) {
      offset += rest % grad.shape()[i] * target_strides[i];
      rest /= grad.shape()[i];
    }
    const float* from = src + n * matrix;
    float* to = dst + offset;
#pragma omp parallel for simd if (matrix > 65536)
    for (int64_t j = 0; j < matrix; ++j) to[j] += from[j];
  }
  return out;
}

}  // namespace

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  QAT_CHECK(weight.ndim() == 2, "linear: weight ", weight.str(), " must be [out, in]");
  QAT_CHECK(x.ndim() >= 1 && x.dim(-1) == weight.dim(1), "linear: input ", x.str(), " does not end in the ",
            weight.dim(1), " features weight ", weight.str(), " expects");
  QAT_CHECK(!bias.defined() || bias.shape() == Shape{weight.dim(0)}, "linear: bias ", bias.str(),
            " does not match weight ", weight.str());
  const Shape x_shape = x.shape();
  const int64_t rows = numel(Shape(x_shape.begin(), x_shape.end() - 1));
  const int64_t in = weight.dim(1);
  const int64_t out = weight.dim(0);
  const Tensor x2 = x.data().reshape({rows, in});
  const Tensor w = weight.data();
  Shape y_shape = x_shape;
  y_shape.back() = out;
  Tensor y = kernels::matmul(x2, w, false, true, bias.defined() ? bias.data() : Tensor()).reshape(y_shape);
  const bool need_x = x.requires_grad();
  const bool need_w = weight.requires_grad();
  const bool need_b = bias.defined() && bias.requires_grad();
  return Variable::record("linear", std::move(y), {x, weight, bias},
                          [x2 = need_w ? x2 : Tensor(), w = need_x ? w : Tensor(), x_shape, rows, out, need_x,
                           need_w, need_b](const Tensor& g) -> std::vector<Tensor> {
                            const Tensor g2 = g.reshape({rows, out});
                            return {need_x ? kernels::matmul(g2, w).reshape(x_shape) : Tensor(),
                                    need_w ? kernels::matmul(g2, x2, true, false) : Tensor(),
                                    need_b ? column_sums(g2) : Tensor()};
                          });
}

Variable matmul(const Variable& a, const Variable& b, bool transpose_a, bool transpose_b) {
  const bool need_a = a.requires_grad();
  const bool need_b = b.requires_grad();
  Tensor y = kernels::matmul(a.data(), b.data(), transpose_a, transpose_b);
  return Variable::record(
      "matmul", std::move(y), {a, b},
      [sa = need_b ? a.data() : Tensor(), sb = need_a ? b.data() : Tensor(), a_shape = a.shape(),
       b_shape = b.shape(), transpose_a, transpose_b, need_a,
       need_b](const Tensor& g) -> std::vector<Tensor> {
        // d op(a) = g·op(b)ᵀ and d op(b) = op(a)ᵀ·g, transposed back where the operand was.
        Tensor da, db;
        if (need_a)
          da = transpose_a ? kernels::matmul(sb, g, transpose_b, true)
                           : kernels::matmul(g, sb, false, !transpose_b);
        if (need_b)
          db = transpose_b ? kernels::matmul(g, sa, true, transpose_a)
                           : kernels::matmul(sa, g, !transpose_a, false);
        return {need_a ? sum_to_shape(da, a_shape) : da, need_b ? sum_to_shape(db, b_shape) : db};
      });
}

}  // namespace qat
