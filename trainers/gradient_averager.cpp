#include "trainers/gradient_averager.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "engine/error.h"

namespace qat {

GradientAverager::GradientAverager(Communicator& communicator, std::vector<Variable> params,
                                   int64_t bucket_floats)
    : communicator_(communicator), params_(std::move(params)) {
  QAT_CHECK(bucket_floats > 0, "GradientAverager: bucket size must be positive, got ", bucket_floats);
  for (size_t k = params_.size(); k-- > 0;) {
    if (buckets_.empty() || buckets_.back().floats >= bucket_floats) buckets_.emplace_back();
    Bucket& bucket = buckets_.back();
    bucket.params.push_back(k);
    bucket.floats += params_[k].numel();
    params_[k].set_grad_ready_hook([this, b = buckets_.size() - 1] { on_grad_ready(b); });
  }
  for (Bucket& bucket : buckets_)
    bucket.buffer.resize(static_cast<size_t>(bucket.floats) + bucket.params.size());
}

GradientAverager::~GradientAverager() {
  for (Variable& param : params_) param.set_grad_ready_hook({});
}

void GradientAverager::start_step() {
  for (Bucket& bucket : buckets_) {
    bucket.ready = 0;
    bucket.started = false;
  }
  armed_ = true;
}

// A hook outside a step (an evaluation's or a diagnosis's backward) changes nothing.
void GradientAverager::on_grad_ready(size_t index) {
  if (!armed_) return;
  Bucket& bucket = buckets_[index];
  if (++bucket.ready == bucket.params.size()) start(bucket);
}

void GradientAverager::start(Bucket& bucket) {
  float* values = bucket.buffer.data();
  float* has_grad = values + bucket.floats;
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    const Variable& param = params_[bucket.params[i]];
    const auto count = static_cast<size_t>(param.numel());
    if (param.grad().defined()) {
      const Tensor grad = param.grad().contiguous();
      QAT_CHECK(grad.dtype() == DType::f32, "GradientAverager: gradient ", grad.str(), " is not f32");
      std::memcpy(values, grad.data<float>(), count * sizeof(float));
    } else {
      std::fill_n(values, count, 0.0f);
    }
    has_grad[i] = param.grad().defined() ? 1.0f : 0.0f;
    values += count;
  }
  bucket.started = true;
  communicator_.start_average(bucket.buffer);
}

int64_t GradientAverager::bytes_per_step() const {
  int64_t bytes = 0;
  for (const Bucket& bucket : buckets_) bytes += static_cast<int64_t>(bucket.buffer.size() * sizeof(float));
  return bytes;
}

void GradientAverager::finish_step() {
  QAT_CHECK(armed_, "GradientAverager: finish_step without start_step");
  const auto waiting_since = std::chrono::steady_clock::now();
  for (Bucket& bucket : buckets_)
    if (!bucket.started) start(bucket);
  communicator_.wait_all();
  for (const Bucket& bucket : buckets_) write_back(bucket);
  armed_ = false;
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting_since).count();
}

void GradientAverager::write_back(const Bucket& bucket) {
  const float* values = bucket.buffer.data();
  const float* has_grad = values + bucket.floats;
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    Variable param = params_[bucket.params[i]];
    if (has_grad[i] > 0.0f) {
      Tensor grad = Tensor::empty(param.shape());
      std::memcpy(grad.data<float>(), values, static_cast<size_t>(param.numel()) * sizeof(float));
      param.impl()->grad = std::move(grad);
    }
    values += param.numel();
  }
}

}  // namespace qat
