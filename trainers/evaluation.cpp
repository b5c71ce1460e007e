#include "trainers/evaluation.h"

#include "autograd/grad_mode.h"
#include "trainers/losses.h"

namespace qat {
namespace {

// (right, counted): argmax of each row of `logits` against its target, skipping the ignore index.
std::pair<int64_t, int64_t> count_correct(const Tensor& logits, const Tensor& targets) {
  const Tensor plain = logits.contiguous();
  const int64_t classes = plain.dim(-1);
  const float* rows = plain.data<float>();
  const int32_t* labels = targets.data<int32_t>();
  int64_t right = 0, counted = 0;
  for (int64_t r = 0; r < targets.numel(); ++r) {
    if (labels[r] == kIgnoreIndex) continue;
    const float* row = rows + r * classes;
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    right += best == labels[r];
    ++counted;
  }
  return {right, counted};
}

}  // namespace

Evaluation evaluate_model(Module& model, BatchStream& data, const LossFn& loss) {
  NoGrad no_grad;
  model.eval();
  data.start_epoch(0);
  double loss_sum = 0.0;
  int64_t right = 0, counted = 0;
  for (Batch batch; data.next(batch);) {
    const Variable output = model.forward(Variable(batch.inputs));
    const auto [batch_right, batch_counted] = count_correct(output.data(), batch.targets);
    if (batch_counted == 0) continue;
    loss_sum += loss(output, batch.targets).data().item() * static_cast<double>(batch_counted);
    right += batch_right;
    counted += batch_counted;
  }
  model.train();
  if (counted == 0) return {};
  return {.loss = loss_sum / counted, .accuracy = static_cast<double>(right) / counted, .samples = counted};
}

}  // namespace qat
