// Convolution benchmarks on ResNet-20 shapes for 28x28 Fashion-MNIST at batch 128: the 3x3 convs of
// each stage and the stride-2 transitions, forward, backward-data and backward-weights. Each runs through
// our kernels (inputs pre-laid-out in the forward's chosen layouts, the weight plain as its owner keeps
// it) and through a bare oneDNN primitive built once on the same problem (format any, memory
// preallocated in the primitive's layouts). Counter: GFLOP/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/context.h"
#include "engine/kernels/conv.h"
#include "engine/random.h"

namespace qat {
namespace {

using dnnl::memory;

enum class Pass { forward, backward_data, backward_weights };

struct Case {
  std::string name;
  Shape x;
  Shape w;
  kernels::Conv2dParams p;
};

std::vector<Case> cases() {
  return {{"stage1_16x28x28", {128, 16, 28, 28}, {16, 16, 3, 3}, {.padding = 1}},
          {"stage2_32x14x14", {128, 32, 14, 14}, {32, 32, 3, 3}, {.padding = 1}},
          {"stage3_64x7x7", {128, 64, 7, 7}, {64, 64, 3, 3}, {.padding = 1}},
          {"down_16to32_s2", {128, 16, 28, 28}, {32, 16, 3, 3}, {.stride = 2, .padding = 1}},
          {"down_32to64_s2", {128, 32, 14, 14}, {64, 32, 3, 3}, {.stride = 2, .padding = 1}}};
}

Tensor random(const Shape& shape, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, -1.0f, 1.0f);
}

void set_flops(benchmark::State& state, const Case& c) {
  const Shape y = kernels::conv2d_output_shape(c.x, c.w, c.p);
  const double flops = 2.0 * static_cast<double>(numel(y)) * static_cast<double>(c.w[1] * c.w[2] * c.w[3]);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void ours(benchmark::State& state, const Case& c, Pass pass) {
  const kernels::ConvLayouts layouts = kernels::conv2d_layouts(c.x, c.w, false, c.p);
  const Tensor x = random(c.x, 1).to_layout(layouts.src);
  const Tensor w = random(c.w, 2);
  const Tensor g = random(kernels::conv2d_output_shape(c.x, c.w, c.p), 3).to_layout(layouts.dst);
  for (auto _ : state) {
    switch (pass) {
      case Pass::forward:
        benchmark::DoNotOptimize(kernels::conv2d_forward(x, w, Tensor(), c.p));
        break;
      case Pass::backward_data:
        benchmark::DoNotOptimize(kernels::conv2d_backward_data(g, w, c.x, c.p));
        break;
      case Pass::backward_weights:
        benchmark::DoNotOptimize(kernels::conv2d_backward_weights(g, x, c.w, false, c.p));
        break;
    }
  }
  set_flops(state, c);
}

memory::desc any_desc(const Shape& shape) {
  return {memory::dims(shape.begin(), shape.end()), memory::data_type::f32, memory::format_tag::any};
}

// A buffer laid out as `desc`, kept alive with its memory object.
memory allocate(const memory::desc& desc, std::vector<Tensor>& keep) {
  keep.push_back(Tensor::empty_like_desc(desc));
  return keep.back().memory();
}

void bare(benchmark::State& state, const Case& c, Pass pass) {
  auto& ctx = Context::get();
  const auto alg = dnnl::algorithm::convolution_direct;
  const memory::desc src = any_desc(c.x), weights = any_desc(c.w);
  const memory::desc dst = any_desc(kernels::conv2d_output_shape(c.x, c.w, c.p));
  const memory::dims strides{c.p.stride, c.p.stride}, dilates{0, 0}, pad{c.p.padding, c.p.padding};
  const dnnl::convolution_forward::primitive_desc forward_pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, weights, dst, strides,
                                      dilates, pad, pad),
      ctx.engine());
  std::vector<Tensor> keep;
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  if (pass == Pass::forward) {
    prim = dnnl::convolution_forward(forward_pd);
    args = {{DNNL_ARG_SRC, allocate(forward_pd.src_desc(), keep)},
            {DNNL_ARG_WEIGHTS, allocate(forward_pd.weights_desc(), keep)},
            {DNNL_ARG_DST, allocate(forward_pd.dst_desc(), keep)}};
  } else if (pass == Pass::backward_data) {
    const dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(alg, src, weights, dst, strides, dilates, pad, pad),
        ctx.engine(), forward_pd);
    prim = dnnl::convolution_backward_data(pd);
    args = {{DNNL_ARG_DIFF_DST, allocate(pd.diff_dst_desc(), keep)},
            {DNNL_ARG_WEIGHTS, allocate(pd.weights_desc(), keep)},
            {DNNL_ARG_DIFF_SRC, allocate(pd.diff_src_desc(), keep)}};
  } else {
    const dnnl::convolution_backward_weights::primitive_desc pd(
        dnnl::convolution_backward_weights::desc(alg, src, weights, dst, strides, dilates, pad, pad),
        ctx.engine(), forward_pd);
    prim = dnnl::convolution_backward_weights(pd);
    args = {{DNNL_ARG_SRC, allocate(pd.src_desc(), keep)},
            {DNNL_ARG_DIFF_DST, allocate(pd.diff_dst_desc(), keep)},
            {DNNL_ARG_DIFF_WEIGHTS, allocate(pd.diff_weights_desc(), keep)}};
  }
  for (const Tensor& t : keep)
    std::fill_n(static_cast<float*>(t.raw()), t.desc().get_size() / sizeof(float), 0.5f);
  for (auto _ : state) {
    prim.execute(ctx.stream(), args);
    ctx.stream().wait();
  }
  set_flops(state, c);
}

const bool registered = [] {
  const std::pair<Pass, const char*> passes[] = {
      {Pass::forward, "fwd"}, {Pass::backward_data, "bwd_data"}, {Pass::backward_weights, "bwd_weights"}};
  for (const Case& c : cases()) {
    for (const auto& [pass, pass_name] : passes) {
      const std::string name = "conv/" + c.name + "/" + pass_name;
      benchmark::RegisterBenchmark((name + "/qat").c_str(), ours, c, pass)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((name + "/onednn").c_str(), bare, c, pass)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace qat
