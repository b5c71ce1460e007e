#pragma once
// Tiny models with post-training records of every kind, shared by the record tests: the `ptq` policy
// applied, batch-norm statistics and input ranges from training-mode passes, then each layer's record set by
// quantize_layer under a random Hessian.
#include <algorithm>
#include <cmath>
#include <memory>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/models/resnet.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/ptq/layer_quantizer.h"
#include "quant/quant_policy.h"
#include "quant/quantizers/record_quantizer.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::test {

inline QuantPolicy ptq_policy(const ptq::PtqOptions& o, int act_bits) {
  QuantPolicy p;
  p.method = o.method;
  p.weight_bits = o.bits;
  p.act_bits = act_bits;
  p.ptq = o;
  return p;
}

/// Sets every layer's record by quantize_layer under random Hessians (BAQ after its first pass).
inline void set_records(const QuantizedModel& q, ptq::PtqOptions o) {
  uint64_t seed = 20;
  for (const QuantizedSite& site : q.layers) {
    auto& record = dynamic_cast<RecordQuantizer&>(*site.layer->weight_quantizer());
    o.bits = record.bits();
    const ptq::LayerWeight l = ptq::layer_weight(site.path, site.layer->layer());
    std::vector<Eigen::MatrixXd> h;
    for (int64_t g = 0; g < l.groups; ++g) h.push_back(sample_hessian(l.w.cols(), 4 * l.w.cols(), ++seed));
    const bool baq = ptq::layer_method(l, o) == "baq";
    record.set_record(
        ptq::quantize_layer(l, h, o, baq ? ptq::baq_first_pass(l, h, o) : std::vector<Eigen::VectorXd>{})
            .record);
  }
}

/// The policy applied to an image model ([N, 1, 12, 12] inputs), batch-norm statistics and input ranges
/// from training-mode passes (the records not yet set pass the float weights), then the records.
inline QuantizedModel quantize(Module& model, const ptq::PtqOptions& o, int act_bits) {
  QuantizedModel q = quant::apply(model, ptq_policy(o, act_bits));
  NoGrad no_grad;
  Generator gen(4);
  for (int i = 0; i < 3; ++i) model.forward(Variable(gen.normal_tensor({16, 1, 12, 12})));
  model.eval();
  set_records(q, o);
  return q;
}

/// Stem, an identity and a projection block (1×1 shortcut convolution + batch norm), classifier.
inline std::shared_ptr<Module> tiny_resnet() {
  manual_seed(3);
  return resnet({.widths = {16, 32}, .blocks_per_stage = 1, .in_channels = 1, .num_classes = 10});
}

/// stem conv + BN + ReLU, a 1×1 convolution without batch norm, pooling and a classifier: QuIP's transforms
/// on both of the last two layers.
inline std::shared_ptr<Module> pointwise_chain() {
  manual_seed(7);
  auto model = std::make_shared<Sequential>();
  model->add("stem", std::make_shared<Conv2d>(Conv2dOptions{.in = 1, .out = 16, .kernel = 3, .padding = 1}));
  model->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = 16, .fuse_relu = true}));
  model->add("mix", std::make_shared<Conv2d>(Conv2dOptions{.in = 16, .out = 16, .kernel = 1}));
  model->add("relu", std::make_shared<Activation>(ActivationKind::relu));
  model->add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model->add("flatten", std::make_shared<Flatten>());
  model->add("fc", std::make_shared<Linear>(LinearOptions{.in = 16, .out = 10}));
  return model;
}

/// Largest |difference| relative to the largest |expected value|.
inline double relative_difference(const std::vector<float>& got, const std::vector<float>& expected) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(got[i] - expected[i])));
    scale = std::max(scale, static_cast<double>(std::abs(expected[i])));
  }
  return diff / scale;
}

}  // namespace qat::test
