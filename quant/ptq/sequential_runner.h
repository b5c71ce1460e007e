#pragma once
// SequentialRunner: calibrates a model block by block (Cornell-RelaxML/QuIP:opt.py:opt_sequential) — block
// i's layers see the outputs of the already quantized blocks before it (PTQ.md, "Calibration capture").
#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "layers/sequential.h"
#include "quant/quantized_layer.h"

namespace qat::ptq {

/// One block of a model, in execution order: block i+1 reads block i's outputs.
struct RunnerBlock {
  std::string path;          ///< prefix of its layers' paths ("layer1.0")
  Module* module = nullptr;  ///< in evaluation mode; its QuantizedLayers are calibrated
  std::function<Tensor(int64_t batch, const Tensor& x)> forward;  ///< the block on batch `batch`'s input
};

/// Quantizes one layer from its proxy Hessians E[x xᵀ] (one per convolution group).
using LayerQuantizer = std::function<void(const std::string& path, QuantizedLayer& layer,
                                          const std::vector<Eigen::MatrixXd>& h)>;

/// Told after block `index` (of the runner's blocks) is quantized, e.g. to report progress.
using BlockDone = std::function<void(size_t index, const RunnerBlock& block)>;

/// How block inputs are formed (PTQ.md, `sequential`, `true_sequential`).
struct SequentialOptions {
  bool sequential = true;        ///< false: every H from the float model's activations
  bool true_sequential = false;  ///< re-run the block after each layer is quantized
};

/// Runs blocks in order over cached batches, quantizing each block's layers in the order they execute.
class SequentialRunner {
 public:
  /// The blocks of a model in execution order.
  SequentialRunner(std::vector<RunnerBlock> blocks, SequentialOptions options);
  /// Calibrates and quantizes every block from block 0's inputs (one tensor per batch), calling `done`
  /// after each; returns the last block's outputs.
  std::vector<Tensor> run(std::vector<Tensor> inputs, const LayerQuantizer& quantize,
                          const BlockDone& done = {}) const;

 private:
  std::vector<RunnerBlock> blocks_;
  SequentialOptions options_;
};

/// The blocks of a Sequential model (ResNet, MobileNetV2): each child holding quantized layers starts a
/// block (stem, residual blocks, head, classifier); children without them (batch norm, pooling) join the
/// block before them, or the first block. `model` must outlive the blocks.
std::vector<RunnerBlock> sequential_blocks(Sequential& model);

}  // namespace qat::ptq
