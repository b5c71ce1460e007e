#include "experiments/image_pipeline.h"

#include "autograd/grad_mode.h"
#include "datasets/fashion_mnist.h"
#include "engine/error.h"

namespace qat {
namespace {

ImageDataset load_split(const config::DataConfig& data, const std::string& split) {
  QAT_CHECK(data.dataset() == "fashion_mnist", "data.dataset: unsupported dataset '", data.dataset(),
            "' (known: fashion_mnist)");
  const ImageDataset full =
      data.dir().empty() ? load_fashion_mnist(split) : load_fashion_mnist(split, data.dir());
  return full.first(split == "train" ? data.train_limit() : data.test_limit());
}

DataLoaderOptions loader_options(const config::Experiment& e, bool training, TrainShard shard) {
  const auto& d = e.data();
  QAT_CHECK(!training || e.train().batch_size() % shard.ranks == 0,
            "train.batch_size: ", e.train().batch_size(), " does not split evenly over the ", shard.ranks,
            " MPI ranks");
  return {.batch_size = training ? e.train().batch_size() : e.train().eval_batch_size(),
          .shuffle = training,
          .drop_last = training,
          .seed = e.seed(),
          .crop_padding = training ? d.crop_padding() : 0,
          .flip = training && d.flip(),
          .mean = {d.mean().begin(), d.mean().end()},
          .stddev = {d.std().begin(), d.std().end()},
          .prefetch = d.prefetch(),
          .shard = training ? shard.rank : 0,
          .shards = training ? shard.ranks : 1};
}

}  // namespace

ImagePipeline::ImagePipeline(const config::Experiment& e, TrainShard shard)
    : train_file_(
          fashion_mnist_image_file("train", e.data().dir().empty() ? kFashionMnistDir : e.data().dir())),
      train_set_(load_split(e.data(), "train")),
      test_set_(load_split(e.data(), "test")),
      train_loader_(train_set_, loader_options(e, true, shard)),
      test_loader_(test_set_, loader_options(e, false, {})),
      train_batches_(train_loader_),
      test_batches_(test_loader_) {}

void ImagePipeline::check_model_input(Module& model) const {
  const Shape& images = train_set_.images.shape();
  const bool training = model.is_training();
  model.eval();  // evaluation mode and no tape: nothing of the model changes
  try {
    NoGrad no_grad;
    model.forward(Variable(Tensor::zeros({1, images[1], images[2], images[3]})));
  } catch (const Error& e) {
    model.train(training);
    detail::fail("data ", train_file_, ": its images (", images[1], " channel(s) of ", images[2], "x",
                 images[3], ") do not fit the model: ", e.what());
  }
  model.train(training);
}

}  // namespace qat
