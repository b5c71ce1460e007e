#include "experiments/calibration.h"

#include <filesystem>

#include "engine/error.h"
#include "experiments/model_factory.h"
#include "experiments/model_layout.h"
#include "trainers/checkpoint.h"

namespace qat {

std::shared_ptr<Module> float_model(const config::Experiment& e, std::map<std::string, Tensor>* assets) {
  const std::string& path = e.init_checkpoint();
  QAT_CHECK(
      !path.empty(),
      "init_checkpoint: qat ptq quantizes a trained model, qat allocate scores one; set init_checkpoint "
      "to its checkpoint");
  QAT_CHECK(std::filesystem::exists(path), "init_checkpoint: ", path, ": no such file");
  const Checkpoint init = load_checkpoint_for(path, e.model());
  auto model = build_model(e.model());
  try {
    model->load_state_dict(init.model);
    if (!init.ema.empty()) model->load_state_dict(init.ema, true);
  } catch (const Error& error) {
    detail::fail("init_checkpoint: ", path, ": ", error.what());
  }
  if (assets) *assets = init.assets;
  return model;
}

config::Experiment calibration_config(const config::Experiment& e) {
  config::Experiment c = e;
  c.set_seed(e.ptq().calib_seed());
  c.mutable_train()->set_batch_size(e.ptq().calib_samples());
  c.mutable_data()->set_crop_padding(0);
  c.mutable_data()->set_flip(false);
  c.mutable_data()->set_prefetch(0);
  return c;
}

Batch calibration_batch(DataPipeline& data, int64_t samples) {
  QAT_CHECK(samples <= data.train_size(), "ptq.calib_samples: ", samples, " exceeds the ", data.train_size(),
            " training examples (data.train_limit)");
  BatchStream& train = data.train();
  train.start_epoch(0);
  Batch batch;
  QAT_CHECK(train.next(batch), "ptq.calib_samples: the training split gave no batch of ", samples);
  return {batch.inputs.clone(), batch.targets.clone()};
}

}  // namespace qat
