#include "quant/mixed_precision/proxies/emq_genotype.h"

#include <cmath>
#include <limits>

#include "engine/error.h"

namespace qat {
namespace {

using Matrix = Eigen::MatrixXd;

Matrix scalar(double v) { return Matrix::Constant(1, 1, v); }

Matrix positive_part(const Matrix& x) { return x.cwiseMax(0.0); }

// Softmax over dim 0 (each column), stabilized by the column maximum.
Matrix softmax_rows(const Matrix& x) {
  Matrix e = (x.rowwise() - x.colwise().maxCoeff()).array().exp().matrix();
  return (e.array().rowwise() / e.colwise().sum().array()).matrix();
}

double unbiased_std(const Matrix& x) {
  if (x.size() < 2) return 0.0;
  return std::sqrt((x.array() - x.mean()).square().sum() / static_cast<double>(x.size() - 1));
}

const Matrix& input_of(EmqInput i, const EmqLayerInputs& in) {
  switch (i) {
    case EmqInput::act:
      return in.act;
    case EmqInput::grad:
      return in.grad;
    case EmqInput::weight:
      return in.weight;
    case EmqInput::virtual_grad:
      return in.virtual_grad;
  }
  return in.weight;
}

const char* input_name(EmqInput i) {
  switch (i) {
    case EmqInput::act:
      return "act";
    case EmqInput::grad:
      return "grad";
    case EmqInput::weight:
      return "weight";
    case EmqInput::virtual_grad:
      return "virtual_grad";
  }
  return "?";
}

bool is_scalar(const Matrix& x) { return x.size() == 1; }

Matrix binary(int op, const Matrix& a, const Matrix& b) {
  if (op == 3) {
    QAT_CHECK(a.cols() == b.cols(), "emq: matmul of ", a.rows(), "x", a.cols(), " and (", b.rows(), "x",
              b.cols(), ")ᵀ");
    return a * b.transpose();
  }
  QAT_CHECK(op >= 0 && op < kEmqBinaryOps, "emq: unknown binary op ", op);
  if (is_scalar(a) || is_scalar(b)) {
    const Matrix& m = is_scalar(a) ? b : a;
    const double s = is_scalar(a) ? a(0, 0) : b(0, 0);
    if (op == 0) return (m.array() + s).matrix();
    if (op == 2) return m * s;
    return is_scalar(a) ? Matrix((s - b.array()).matrix()) : Matrix((a.array() - s).matrix());
  }
  QAT_CHECK(a.rows() == b.rows() && a.cols() == b.cols(), "emq: element-wise op on ", a.rows(), "x", a.cols(),
            " and ", b.rows(), "x", b.cols());
  if (op == 0) return a + b;
  if (op == 1) return a - b;
  return a.cwiseProduct(b);
}

}  // namespace

std::string EmqGenotype::str() const {
  return std::string("inputs=[") + input_name(inputs[0]) + ", " + input_name(inputs[1]) + "], ops=[[" +
         std::to_string(unary[0][0]) + "," + std::to_string(unary[0][1]) + "],[" +
         std::to_string(unary[1][0]) + "," + std::to_string(unary[1][1]) + "]," + std::to_string(binary) +
         "], reduce=" + (mean ? "mean" : "sum");
}

Matrix emq_unary(int op, const Matrix& x) {
  switch (op) {
    case 0:
      return positive_part(x).array().log().matrix();
    case 1:
      return x.unaryExpr([](double v) { return v == 0.0 ? 0.0 : std::log(std::abs(v)); });
    case 2:
      return x.cwiseAbs();
    case 3:
      return x.array().square().matrix();
    case 4:
      return x.array().exp().matrix();
    case 5:
      return ((x.array() - x.mean()) / unbiased_std(x)).matrix();
    case 6:
      return positive_part(x);
    case 7:
      return x.cwiseInverse();
    case 8:
      return scalar(x.norm());
    case 9:
      return scalar(x.mean());
    case 10:
      return scalar(x.cwiseAbs().mean());
    case 11:
      return softmax_rows(x);
    case 12:
      return (1.0 / (1.0 + (-x.array()).exp())).matrix();
    case 13:
      return softmax_rows(x).array().log().matrix();
    case 14:
      return positive_part(x).cwiseSqrt();
    case 15: {
      const double lo = x.minCoeff(), hi = x.maxCoeff();
      return ((x.array() - lo) / (hi - lo)).matrix();
    }
    case 16:
      return scalar(x.mean());
    case 17:
      return scalar(unbiased_std(x));
    case 18:
      return x;
    default:
      detail::fail("emq: unknown unary op ", op, " (0..", kEmqUnaryOps - 1, ")");
  }
}

double emq_score(const EmqGenotype& g, const EmqLayerInputs& in) {
  std::array<Matrix, 2> branch;
  for (size_t b = 0; b < 2; ++b)
    branch[b] = emq_unary(g.unary[b][1], emq_unary(g.unary[b][0], input_of(g.inputs[b], in)));
  const Matrix joined = binary(g.binary, branch[0], branch[1]);
  return g.mean ? joined.mean() : joined.sum();
}

}  // namespace qat
