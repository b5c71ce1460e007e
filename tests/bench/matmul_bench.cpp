// Matmul benchmarks on BERT-small shapes (batch 32, seq 128, hidden 256, 4 heads, FFN 1024): each
// forward product and its two backward products, run through kernels::matmul and through a bare oneDNN
// matmul primitive built once on the same descriptors (memory preallocated). Counter: GFLOP/s.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/kernels/matmul.h"
#include "engine/random.h"

namespace qat {
namespace {

// op(a)·op(b) (+ bias of size N) with `a` and `b` given by their stored shapes.
struct Case {
  std::string name;
  Shape a;
  Shape b;
  bool transpose_a = false;
  bool transpose_b = false;
  bool bias = false;
};

// Linear y = x·Wᵀ + b for x [rows, in], W [out, in]: forward, input gradient g·W, weight gradient gᵀ·x.
void add_linear(std::vector<Case>& cases, const std::string& name, int64_t rows, int64_t in, int64_t out) {
  cases.push_back({name + "_fwd", {rows, in}, {out, in}, false, true, true});
  cases.push_back({name + "_bwd_data", {rows, out}, {out, in}, false, false});
  cases.push_back({name + "_bwd_weights", {rows, out}, {rows, in}, true, false});
}

std::vector<Case> cases() {
  std::vector<Case> list;
  add_linear(list, "qkv_proj", 4096, 256, 256);
  add_linear(list, "ffn_up", 4096, 256, 1024);
  add_linear(list, "ffn_down", 4096, 1024, 256);
  // scores = q·kᵀ, then dq = g·k and dk = gᵀ·q.
  list.push_back({"attn_scores_fwd", {32, 4, 128, 64}, {32, 4, 128, 64}, false, true});
  list.push_back({"attn_scores_bwd_q", {32, 4, 128, 128}, {32, 4, 128, 64}, false, false});
  list.push_back({"attn_scores_bwd_k", {32, 4, 128, 128}, {32, 4, 128, 64}, true, false});
  // context = p·v, then dp = g·vᵀ and dv = pᵀ·g.
  list.push_back({"attn_context_fwd", {32, 4, 128, 128}, {32, 4, 128, 64}, false, false});
  list.push_back({"attn_context_bwd_p", {32, 4, 128, 64}, {32, 4, 128, 64}, false, true});
  list.push_back({"attn_context_bwd_v", {32, 4, 128, 128}, {32, 4, 128, 64}, true, false});
  return list;
}

Tensor random(const Shape& shape, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, -1.0f, 1.0f);
}

Shape result_shape(const Case& c) {
  Shape out(c.a.begin(), c.a.end() - 2);
  out.push_back(c.transpose_a ? c.a.back() : c.a[c.a.size() - 2]);
  out.push_back(c.transpose_b ? c.b[c.b.size() - 2] : c.b.back());
  return out;
}

void set_flops(benchmark::State& state, const Case& c) {
  const int64_t k = c.transpose_a ? c.a[c.a.size() - 2] : c.a.back();
  const double flops = 2.0 * static_cast<double>(numel(result_shape(c))) * static_cast<double>(k);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void ours(benchmark::State& state, const Case& c) {
  const Tensor a = random(c.a, 1);
  const Tensor b = random(c.b, 2);
  const Tensor bias = c.bias ? random({result_shape(c).back()}, 3) : Tensor();
  for (auto _ : state) benchmark::DoNotOptimize(kernels::matmul(a, b, c.transpose_a, c.transpose_b, bias));
  set_flops(state, c);
}

void bare(benchmark::State& state, const Case& c) {
  using dnnl::memory;
  const int ndim = static_cast<int>(c.a.size());
  const Shape out_shape = result_shape(c);
  const memory::desc src = kernels::matmul_operand_desc(c.a, c.transpose_a, ndim);
  const memory::desc weights = kernels::matmul_operand_desc(c.b, c.transpose_b, ndim);
  const memory::desc dst = Tensor::plain_desc(out_shape, DType::f32);
  Shape bias_dims(ndim, 1);
  bias_dims.back() = out_shape.back();
  const memory::desc bias_md = Tensor::plain_desc(bias_dims, DType::f32);
  auto& ctx = Context::get();
  const auto desc =
      c.bias ? dnnl::matmul::desc(src, weights, bias_md, dst) : dnnl::matmul::desc(src, weights, dst);
  const dnnl::matmul prim(dnnl::matmul::primitive_desc(desc, ctx.engine()));
  const Tensor a = random(c.a, 1);
  const Tensor b = random(c.b, 2);
  const Tensor bias = random({out_shape.back()}, 3);
  const Tensor out = Tensor::empty(out_shape);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(src, ctx.engine(), a.raw())},
                                       {DNNL_ARG_WEIGHTS, memory(weights, ctx.engine(), b.raw())},
                                       {DNNL_ARG_DST, memory(dst, ctx.engine(), out.raw())}};
  if (c.bias) args.emplace(DNNL_ARG_BIAS, memory(bias_md, ctx.engine(), bias.raw()));
  for (auto _ : state) {
    prim.execute(ctx.stream(), args);
    ctx.stream().wait();
  }
  set_flops(state, c);
}

const bool registered = [] {
  for (const Case& c : cases()) {
    benchmark::RegisterBenchmark(("matmul/" + c.name + "/qat").c_str(), ours, c)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("matmul/" + c.name + "/onednn").c_str(), bare, c)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace qat
