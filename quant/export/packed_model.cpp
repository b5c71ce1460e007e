#include "quant/export/packed_model.h"

#include "engine/error.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "quant/fold_plan.h"

namespace qat {
namespace {

InputGrid input_grid(const Quantizer& aq, const std::string& path) {
  const std::string what = path + ".aq";
  QAT_CHECK(aq.initialized(), what, ": quantizer not initialized (run a forward pass or load a checkpoint)");
  const QuantGrid grid = aq.grid();
  QAT_CHECK(grid.scale.size() == 1 && grid.offset.size() == 1, what, " is not per-tensor");
  const InputGrid g{.scale = grid.scale[0],
                    .zero_point = integer_zero_point(grid.offset[0], grid.scale[0], what),
                    .qmin = grid.qmin,
                    .qmax = grid.qmax,
                    .bits = grid.bits,
                    .is_signed = aq.is_signed()};
  QAT_CHECK(g.qmin >= -128 && g.qmax <= 255 && (g.qmin >= 0 || g.qmax <= 127), what, ": codes ", g.qmin, "…",
            g.qmax, " do not fit u8 or s8 (integer inference runs 8-bit activations)");
  return g;
}

PackedLayer pack_layer(const FoldStep& step) {
  const std::string& path = step.path;
  auto* q = dynamic_cast<QuantizedLayer*>(step.module);
  QAT_CHECK(q && q->weight_quantizer(), "packed export: layer '", path,
            "' is not quantized (every conv/linear layer needs a weight quantizer)");
  PackedLayer p;
  p.path = path;
  if (const auto* conv = dynamic_cast<const Conv2d*>(&q->layer())) {
    const Conv2dOptions& o = conv->options();
    p.stride = o.stride;
    p.padding = o.padding;
    p.dilation = o.dilation;
    p.groups = o.groups;
  } else {
    QAT_CHECK(dynamic_cast<const Linear*>(&q->layer()) && !step.batch_norm, "packed export: layer '", path,
              "' is neither a Conv2d nor a Linear without batch norm");
    p.kind = PackedKind::linear;
  }
  std::optional<ChannelAffine> fold;
  if (step.batch_norm) {
    fold = fold_batch_norm(*step.batch_norm, q->layer().weight().dim(0), step.batch_norm_path);
    p.batch_norm = step.batch_norm_path;
    p.relu = fold->relu;
  }
  p.weight = quantize_weight(*q, path, fold ? &*fold : nullptr);
  QAT_CHECK(p.weight.bits >= 1 && p.weight.bits <= 8 &&
                (p.weight.qmax - p.weight.qmin) / p.weight.code_stride < (int64_t{1} << p.weight.bits),
            path, ".wq: codes ", p.weight.qmin, "…", p.weight.qmax, " of ", p.weight.bits,
            " bits cannot be packed (1 to 8 bits)");
  if (q->input_quantizer()) p.input = input_grid(*q->input_quantizer(), path);
  return p;
}

// Every weighted layer of the tree in model order, with the batch norm its fold plan gives it.
void collect(Module& m, const std::string& path, std::vector<PackedLayer>& out) {
  for (const FoldStep& step : fold_plan(m, path, false)) {
    if (step.weighted())
      out.push_back(pack_layer(step));
    else
      collect(*step.module, step.path, out);
  }
}

}  // namespace

const PackedLayer& PackedModel::layer(const std::string& path) const {
  for (const PackedLayer& l : layers)
    if (l.path == path) return l;
  detail::fail("packed model: no layer '", path, "'");
}

int64_t weight_count(const PackedModel& model) {
  int64_t count = 0;
  for (const PackedLayer& l : model.layers) count += static_cast<int64_t>(l.weight.codes.size());
  return count;
}

double ideal_payload_bytes(const PackedModel& model) {
  double bits = 0;
  for (const PackedLayer& l : model.layers)
    bits += static_cast<double>(l.weight.codes.size()) * l.weight.bits;
  return bits / 8;
}

PackedModel pack_model(Module& model, const std::string& config) {
  model.eval();
  PackedModel packed{.config = config, .layers = {}};
  collect(model, "", packed.layers);
  QAT_CHECK(!packed.layers.empty(), "packed export: the model has no quantized layer");
  return packed;
}

}  // namespace qat
