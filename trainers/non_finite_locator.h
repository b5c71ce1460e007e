#pragma once
// Where a non-finite loss came from: the first parameter, layer output or gradient that is not finite.
#include <functional>
#include <string>

#include "layers/module.h"

namespace qat {

/// Re-runs `forward_loss` (one training step's forward pass and loss, gradients zeroed beforehand) with
/// every leaf layer and decorator of `model` observed, then its backward pass, and describes the first
/// non-finite value: a parameter (the previous update overflowed), the output of the first layer that
/// turned finite input into non-finite output (in forward order), the loss itself, or the gradient of the
/// layer closest to the loss; with the likely cause (`lr`, the learning rate of the failed step, or a
/// quantizer's bits). The model is left as it was found.
std::string locate_non_finite(Module& model, const std::function<Variable()>& forward_loss, double lr);

}  // namespace qat
