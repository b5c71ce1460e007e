#pragma once
// What post-training quantization (qat ptq) and mixed-precision allocation (qat allocate) start from: the
// trained float model of init_checkpoint and one calibration batch drawn by the `ptq` section.
#include <map>
#include <memory>
#include <string>

#include "experiments/data_pipeline.h"
#include "experiments/experiment.pb.h"
#include "layers/module.h"

namespace qat {

/// The trained model of init_checkpoint (its averaged weights when the run kept an EMA); errors name it.
/// `assets`, when given, gets the checkpoint's (a text model's tokenizer).
std::shared_ptr<Module> float_model(const config::Experiment& e,
                                    std::map<std::string, Tensor>* assets = nullptr);

/// The experiment whose training stream gives the calibration batch — ptq.calib_samples images drawn by
/// ptq.calib_seed without augmentation, the same for every method — and whose test stream is the run's.
config::Experiment calibration_config(const config::Experiment& e);

/// The first training batch of a calibration_config pipeline (inputs and targets, copied).
Batch calibration_batch(DataPipeline& data, int64_t samples);

}  // namespace qat
