#include "autograd/ops/embedding.h"

#include <algorithm>
#include <vector>

#include "engine/error.h"

namespace qat {
namespace {

void check_ids(const Tensor& ids, const Variable& table) {
  QAT_CHECK(table.ndim() == 2 && table.data().dtype() == DType::f32, "embedding: table ", table.str(),
            " must be f32 [V, D]");
  QAT_CHECK(ids.defined() && ids.dtype() == DType::s32, "embedding: ids ", ids.str(), " must be s32 (table ",
            table.str(), ")");
  const Tensor plain = ids.contiguous();
  const int32_t* id = plain.data<int32_t>();
  for (int64_t i = 0; i < plain.numel(); ++i)
    QAT_CHECK(id[i] >= 0 && id[i] < table.dim(0), "embedding: id ", id[i], " at position ", i,
              " is out of range for table ", table.str());
}

// Positions of the ids grouped by id (a counting sort): rows [start[v], start[v + 1]) of `order`.
struct Grouped {
  std::vector<int64_t> start;
  std::vector<int64_t> order;
};

Grouped group_by_id(const int32_t* id, int64_t count, int64_t vocab) {
  Grouped g{std::vector<int64_t>(vocab + 1, 0), std::vector<int64_t>(count)};
  for (int64_t i = 0; i < count; ++i) ++g.start[id[i] + 1];
  for (int64_t v = 0; v < vocab; ++v) g.start[v + 1] += g.start[v];
  std::vector<int64_t> next(g.start.begin(), g.start.end() - 1);
  for (int64_t i = 0; i < count; ++i) g.order[next[id[i]]++] = i;
  return g;
}

// Sums each id's gradient rows in position order, ids in parallel: deterministic and race-free.
Tensor scatter_add(const Tensor& ids, const Tensor& grad, int64_t vocab, int64_t width) {
  const Grouped groups = group_by_id(ids.data<int32_t>(), ids.numel(), vocab);
  Tensor out = Tensor::zeros({vocab, width});
  const float* g = grad.data<float>();
  float* o = out.data<float>();
#pragma omp parallel for schedule(dynamic, 64) if (ids.numel() * width > 65536)
  for (int64_t v = 0; v < vocab; ++v) {
    float* row = o + v * width;
    for (int64_t k = groups.start[v]; k < groups.start[v + 1]; ++k) {
      const float* from = g + groups.order[k] * width;
#pragma omp simd
      for (int64_t j = 0; j < width; ++j) row[j] += from[j];
    }
  }
  return out;
}

}  // namespace

Variable embedding(const Tensor& ids, const Variable& table) {
  check_ids(ids, table);
  const Tensor plain_ids = ids.contiguous();
  const Tensor weights = table.data().contiguous();
  const int64_t vocab = table.dim(0);
  const int64_t width = table.dim(1);
  const int64_t count = plain_ids.numel();
  Shape out_shape = ids.shape();
  out_shape.push_back(width);
  Tensor out = Tensor::empty(out_shape);
  const int32_t* id = plain_ids.data<int32_t>();
  const float* w = weights.data<float>();
  float* o = out.data<float>();
#pragma omp parallel for if (count * width > 65536)
  for (int64_t i = 0; i < count; ++i) std::copy_n(w + id[i] * width, width, o + i * width);
  return Variable::record("embedding", out, {table},
                          [plain_ids, vocab, width](const Tensor& g) -> std::vector<Tensor> {
                            return {scatter_add(plain_ids, g.contiguous(), vocab, width)};
                          });
}

}  // namespace qat
