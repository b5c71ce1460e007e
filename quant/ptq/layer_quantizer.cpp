#include "quant/ptq/layer_quantizer.h"

#include <algorithm>
#include <chrono>
#include <sstream>

#include "engine/error.h"
#include "layers/conv2d.h"
#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/optq.h"
#include "quant/ptq/rtn.h"
#include "quant/ptq/weight_record.h"
#include "quant/quant_method.h"

namespace qat::ptq {

namespace {

WeightTransform::Kind incoherence_of(const std::string& name) {
  if (name.empty() || name == "kronecker") return WeightTransform::Kind::kronecker;
  if (name == "hadamard") return WeightTransform::Kind::hadamard;
  QAT_CHECK(name == "none", "ptq.incoherence: unknown '", name, "' (none, hadamard, kronecker)");
  return WeightTransform::Kind::none;
}

Rounding rounding_of(const std::string& name) {
  if (name.empty() || name == "ldlq") return Rounding::ldlq;
  if (name == "optq") return Rounding::optq;
  QAT_CHECK(name == "nearest", "ptq.rounding: unknown '", name, "' (nearest, optq, ldlq)");
  return Rounding::nearest;
}

// transform_seed mixed with the layer path (FNV-1a), so that every layer gets its own U and V.
uint64_t layer_seed(uint64_t seed, const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char ch : path) h = (h ^ ch) * 0x100000001b3ull;
  return seed ^ h;
}

GridKind grid_of(const PtqOptions& o) { return o.grid.empty() ? GridKind::asym0 : parse_grid_kind(o.grid); }

// RTN or OPTQ on each convolution group's rows, stacked into one set of per-row (and column-group) grids.
GridCodes grid_codes(const LayerWeight& l, const std::vector<Eigen::MatrixXd>& h, const PtqOptions& o,
                     bool optq, int& retries) {
  GridCodes all(l.w.rows(), l.w.cols(), o.group_size);
  const int64_t rows = l.w.rows() / l.groups;
  for (int64_t g = 0; g < l.groups; ++g) {
    Eigen::MatrixXd w = l.w.middleRows(g * rows, rows);
    GridCodes c = rtn_quantize(w, grid_of(o), o.bits, o.group_size);
    if (optq) {
      const FixedHessian f = fix_hessian(h[g], w, o.damp);
      retries = std::max(retries, f.retries);
      c = optq_quantize(w, f.h,
                        {.grid = grid_of(o),
                         .bits = o.bits,
                         .group_size = o.group_size,
                         .block_size = o.block_size,
                         .act_order = o.act_order})
              .codes;
    }
    all.codes.middleRows(g * rows, rows) = c.codes;
    all.step.middleRows(g * rows, rows) = c.step;
    all.zero.middleRows(g * rows, rows) = c.zero;
  }
  return all;
}

void quip_layer(const LayerWeight& l, const Eigen::MatrixXd& h, const PtqOptions& o, LayerResult& r) {
  const QuipResult q = quip_quantize(l.w, h,
                                     {.bits = o.bits,
                                      .incoherence = incoherence_of(o.incoherence),
                                      .rescale = o.rescale,
                                      .seed = layer_seed(o.transform_seed, l.path),
                                      .rounding = rounding_of(o.rounding),
                                      .damp = o.damp,
                                      .block_size = o.block_size,
                                      .greedy_passes = o.greedy_passes,
                                      .unbiased = o.unbiased});
  r.record = quip_record(q, l.shape, o.bits);
  r.w_hat = q.w_hat;
  r.report.incoherence_before = q.incoherence_before;
  r.report.incoherence_after = q.incoherence_after;
  r.report.damp_retries = q.damp_retries;
}

void sinq_layer(const LayerWeight& l, const PtqOptions& o, LayerResult& r) {
  const SinqResult s = sinq_quantize(l.w, {.bits = o.bits,
                                           .group_size = o.group_size > 0 ? o.group_size : 64,
                                           .iterations = o.sinkhorn_iters,
                                           .kurtosis_gate = o.kurtosis_gate});
  r.record = sinq_record(s, l.shape, o.bits);
  r.w_hat = s.dequantize();
  r.report.imbalance_before = s.imbalance_before;
  r.report.imbalance_after = s.imbalance_after;
  r.report.kurtosis = s.kurtosis;
  r.report.gated = s.gated;
}

BaqOptions baq_options(const PtqOptions& o) {
  return {.rate = static_cast<double>(o.bits),
          .theta = o.baq_theta,
          .max_levels = o.baq_max_levels,
          .rate_match = o.baq_rate_match,
          .block_size = o.block_size};
}

void baq_layer(const LayerWeight& l, const Eigen::MatrixXd& h, const Eigen::VectorXd& loss,
               const PtqOptions& o, LayerResult& r) {
  Eigen::MatrixXd w = l.w;
  const FixedHessian f = fix_hessian(h, w, o.damp);
  const BaqResult b = baq_quantize(w, f.h, loss, baq_options(o));
  r.record = baq_record(b, l.shape);
  r.w_hat = b.codes.dequantize();
  r.report.bits = baq_rate(b.levels.levels);
  r.report.damp_retries = f.retries;
}

// Sums of ℓ and tr(W H Wᵀ) over the convolution groups, with the undamped H.
void add_losses(const LayerWeight& l, const std::vector<Eigen::MatrixXd>& h, LayerResult& r) {
  const int64_t rows = l.w.rows() / l.groups;
  double base = 0.0;
  for (int64_t g = 0; g < l.groups; ++g) {
    r.report.loss += proxy_loss(l.w.middleRows(g * rows, rows) - r.w_hat.middleRows(g * rows, rows), h[g]);
    base += proxy_loss(l.w.middleRows(g * rows, rows), h[g]);
  }
  r.report.relative_loss = base > 0.0 ? r.report.loss / base : 0.0;
}

}  // namespace

std::vector<Eigen::VectorXd> baq_first_pass(const LayerWeight& layer, const std::vector<Eigen::MatrixXd>& h,
                                            const PtqOptions& options) {
  const int64_t rows = layer.w.rows() / layer.groups;
  std::vector<Eigen::VectorXd> losses;
  for (int64_t g = 0; g < layer.groups; ++g) {
    Eigen::MatrixXd w = layer.w.middleRows(g * rows, rows);
    const FixedHessian f = fix_hessian(h[g], w, options.damp);
    losses.push_back(baq_calibrate(w, f.h, options.bits).loss);
  }
  return losses;
}

void check_options(const PtqOptions& o) {
  const std::string m = quant_method(o.method, "ptq.method", is_post_training).name;
  QAT_CHECK(o.bits >= 2 && o.bits <= 8, "ptq.weight_bits: ", o.bits, " outside 2..8");
  QAT_CHECK(o.grid.empty() || o.grid == "asym0" || o.grid == "asym" || o.grid == "sym" ||
                (o.grid == "quip" && m == "quip"),
            "ptq.grid: '", o.grid, "' is not a grid of ", m, " (asym0, asym, sym; quip is QuIP's own)");
  rounding_of(o.rounding);
  incoherence_of(o.incoherence);
  QAT_CHECK(o.group_size >= 0, "ptq.group_size: ", o.group_size, " is negative");
  QAT_CHECK(o.damp > 0.0, "ptq.damp: ", o.damp, " must be positive");
  QAT_CHECK(o.block_size >= 1, "ptq.block_size: ", o.block_size, " must be at least 1");
  QAT_CHECK(o.greedy_passes >= 0 && o.greedy_passes <= 9, "ptq.greedy_passes: ", o.greedy_passes,
            " outside 0..9");
  QAT_CHECK(o.sinkhorn_iters >= 0, "ptq.sinkhorn_iters: ", o.sinkhorn_iters, " is negative");
  QAT_CHECK(o.kurtosis_gate >= 0.0, "ptq.kurtosis_gate: ", o.kurtosis_gate, " is negative");
  QAT_CHECK(o.baq_theta > 0.0, "ptq.baq_theta: ", o.baq_theta, " must be positive");
  QAT_CHECK(o.baq_max_levels >= 2 && o.baq_max_levels <= 256, "ptq.baq_max_levels: ", o.baq_max_levels,
            " outside 2..256");
}

LayerWeight layer_geometry(const std::string& path, const WeightedLayer& layer) {
  LayerWeight l{.path = path, .w = {}, .shape = layer.weight().shape()};
  if (const auto* conv = dynamic_cast<const Conv2d*>(&layer)) {
    l.convolution = true;
    l.pointwise = conv->options().kernel == 1;
    l.groups = conv->options().groups;
  }
  return l;
}

LayerWeight layer_weight(const std::string& path, const WeightedLayer& layer) {
  LayerWeight l = layer_geometry(path, layer);
  const std::vector<float> v = layer.weight().data().to_vector();
  const int64_t out = l.shape.at(0), d = numel(l.shape) / out;
  l.w = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), out,
                                                                                                d)
            .cast<double>();
  return l;
}

std::string layer_method(const LayerWeight& layer, const PtqOptions& options) {
  std::string m = quant_method(options.method, "ptq.method", is_post_training).name;
  const bool in_scope = !layer.convolution || (layer.pointwise && layer.groups == 1);
  if (m == "quip") return in_scope ? m : "optq";
  if (m == "sinq") return in_scope ? m : "rtn";
  if (m == "baq") return layer.groups == 1 ? m : "optq";
  return m;
}

RecordLayout record_layout(const LayerWeight& layer, const PtqOptions& o) {
  const std::string m = layer_method(layer, o);
  const int64_t out = layer.shape.at(0), d = numel(layer.shape) / out;
  RecordLayout r{.shape = layer.shape};
  if (m == "quip") {
    r.scales = 1;
    r.col_scale = true;
    r.transforms = incoherence_of(o.incoherence) != WeightTransform::Kind::none;
    return r;
  }
  if (m == "baq") {
    r.levels = true;
    return r;
  }
  int64_t g = o.group_size;
  if (o.method == "sinq")
    g = sinq_tile_width(d, g > 0 ? g : 64);
  else
    QAT_CHECK(g == 0 || g >= d || d % g == 0, "ptq.group_size: ", g, " does not divide the ", d,
              " input columns of layer '", layer.path, "' (", m, " has no fallback; sinq halves its tiles)");
  const int64_t groups = g > 0 ? (d + g - 1) / g : 1;
  r.scales = out * groups;
  r.group_size = groups > 1 ? g : 0;
  r.col_scale = m == "sinq";
  return r;
}

LayerResult quantize_layer(const LayerWeight& layer, const std::vector<Eigen::MatrixXd>& h,
                           const PtqOptions& o, const std::vector<Eigen::VectorXd>& baq_losses) {
  const std::string m = layer_method(layer, o);
  QAT_CHECK(layer.groups >= 1 && layer.w.rows() % layer.groups == 0 &&
                static_cast<int64_t>(h.size()) == layer.groups,
            layer.path, ": ", h.size(), " Hessians for ", layer.groups, " groups of ", layer.w.rows(),
            " rows");
  const auto start = std::chrono::steady_clock::now();
  LayerResult r;
  r.report.path = layer.path;
  r.report.method = m;
  r.report.bits = o.bits;
  if (m == "quip") {
    quip_layer(layer, h[0], o, r);
  } else if (m == "sinq") {
    sinq_layer(layer, o, r);
  } else if (m == "baq") {
    QAT_CHECK(baq_losses.size() == 1, layer.path, ": BAQ needs its first pass's column losses");
    baq_layer(layer, h[0], baq_losses[0], o, r);
  } else {
    PtqOptions own = o;
    if (o.method == "sinq")  // out of SINQ's scope: RTN `asym` on its tiles
      own.grid = "asym",
      own.group_size = sinq_tile_width(layer.w.cols(), o.group_size > 0 ? o.group_size : 64);
    const GridCodes codes = grid_codes(layer, h, own, m == "optq", r.report.damp_retries);
    r.record = grid_record(codes, layer.shape, o.bits);
    r.w_hat = codes.dequantize();
  }
  add_losses(layer, h, r);
  r.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string layer_report_header() {
  return "path,method,bits,loss,relative_loss,incoherence_before,incoherence_after,imbalance_before,"
         "imbalance_after,kurtosis,gated,damp_retries,seconds";
}

std::string layer_report_row(const LayerReport& r) {
  std::ostringstream s;
  s.precision(6);
  s << r.path << ',' << r.method << ',' << r.bits << ',' << r.loss << ',' << r.relative_loss << ','
    << r.incoherence_before << ',' << r.incoherence_after << ',' << r.imbalance_before << ','
    << r.imbalance_after << ',' << r.kurtosis << ',' << (r.gated ? 1 : 0) << ',' << r.damp_retries << ','
    << r.seconds;
  return s.str();
}

}  // namespace qat::ptq
