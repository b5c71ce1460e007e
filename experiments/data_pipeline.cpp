#include "experiments/data_pipeline.h"

#include "engine/error.h"
#include "experiments/image_pipeline.h"
#include "experiments/text_pipeline.h"

namespace qat {

std::unique_ptr<DataPipeline> make_pipeline(const config::Experiment& e,
                                            const std::map<std::string, Tensor>& assets, TrainShard shard) {
  const std::string& dataset = e.data().dataset();
  if (dataset == "fashion_mnist") return std::make_unique<ImagePipeline>(e, shard);
  QAT_CHECK(shard.ranks == 1, "data.dataset: '", dataset, "' cannot be trained data-parallel yet (",
            shard.ranks, " MPI ranks); fashion_mnist can");
  if (dataset == "wordnet_mlm" || dataset == "wordnet_lm" || dataset == "wordnet_supersense")
    return std::make_unique<TextPipeline>(e, assets);
  detail::fail("data.dataset: unknown dataset '", dataset,
               "' (known: fashion_mnist, wordnet_mlm, wordnet_lm, wordnet_supersense)");
}

}  // namespace qat
