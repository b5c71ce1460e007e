#include "experiments/export_command.h"

#include <google/protobuf/text_format.h>

#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/json_line.h"
#include "experiments/output_location.h"
#include "experiments/text_pipeline.h"
#include "quant/export/onnx_exporter.h"
#include "quant/export/packed_file.h"

namespace qat {
namespace {

// The graph input of the configs' dataset: Fashion-MNIST images are 28x28.
OnnxExportOptions onnx_options(const config::Experiment& e) {
  const config::DataConfig& d = e.data();
  QAT_CHECK(d.dataset() == "fashion_mnist", "qat export: data.dataset '", d.dataset(),
            "' is not supported for images (supported: fashion_mnist)");
  return {.channels = e.model().in_channels(),
          .height = 28,
          .width = 28,
          .mean = {d.mean().begin(), d.mean().end()},
          .stddev = {d.std().begin(), d.std().end()},
          .name = e.name()};
}

// Every quantized layer's codes bit-packed with its scales, folded bias and input grid, plus the config.
std::string export_packed(const CheckpointModel& loaded, const std::string& checkpoint,
                          const std::string& out) {
  std::string config;
  QAT_CHECK(google::protobuf::TextFormat::PrintToString(loaded.experiment, &config),
            "qat export: ", checkpoint, ": cannot print its config");
  const PackedModel packed = pack_model(*loaded.model, config);
  const int64_t bytes = save_packed(packed, out);
  const int64_t payload = payload_bytes(packed);
  JsonLine result;
  result.add("command", "export")
      .add("checkpoint", checkpoint)
      .add("out", out)
      .add("format", "packed")
      .add("model", loaded.experiment.model().arch())
      .add("layers", static_cast<int64_t>(packed.layers.size()))
      .add("weights", weight_count(packed))
      .add("payload_bytes", payload)
      .add("ideal_payload_bytes", ideal_payload_bytes(packed))
      .add("payload_ratio", static_cast<double>(payload) / ideal_payload_bytes(packed))
      .add("bytes", bytes);
  return result.str();
}

onnx::ModelProto export_model(const CheckpointModel& loaded, const std::string& path) {
  const config::ModelConfig& m = loaded.experiment.model();
  if (m.arch() == "resnet20" || m.arch() == "mobilenetv2")
    return export_onnx(*loaded.model, onnx_options(loaded.experiment));
  QAT_CHECK(m.arch() == "bert", "qat export: ", path, ": architecture '", m.arch(),
            "' is not supported (supported: resnet20, mobilenetv2, bert)");
  QAT_CHECK(m.head() == "classify", "qat export: ", path, ": BERT head '", m.head(),
            "' is not supported (supported: classify)");
  return export_onnx(dynamic_cast<Bert&>(*loaded.model), loaded.experiment.name());
}

// The checkpoint's test split as its own tokenizer encodes it, for scripts/ort_eval.mjs --text-data:
// {"dataset", "pad_id", "classes", "sequences": [[ids of one example]...], "labels": [...]}.
int64_t write_text_data(const CheckpointModel& loaded, const std::string& file) {
  const config::Experiment& e = loaded.experiment;
  QAT_CHECK(e.data().dataset() == "wordnet_supersense", "qat export: --text-data needs a text classifier (",
            "data.dataset 'wordnet_supersense'), not data.dataset '", e.data().dataset(), "'");
  const TextPipeline pipeline(e, loaded.checkpoint.assets);
  const TextDataset& test = pipeline.test_set();
  const nlohmann::json data = {{"dataset", e.data().dataset()},
                               {"pad_id", SpecialTokens::kPad},
                               {"classes", test.num_classes},
                               {"sequences", test.sequences},
                               {"labels", test.labels}};
  write_file_atomically(file, data.dump() + "\n");
  return test.size();
}

}  // namespace

std::string run_export(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat export: expected one CHECKPOINT argument");
  const std::string format = line.get("format");
  const std::string out = line.get("out");
  QAT_CHECK(format == "onnx" || format == "packed", "qat export: --format '", format,
            "' is not supported (supported: onnx, packed)");
  QAT_CHECK(!out.empty(), "qat export: --out FILE is required");
  check_output_file(out, line.has("overwrite"));
  if (line.has("text-data")) check_output_file(line.get("text-data"), line.has("overwrite"));
  const std::string& path = line.positional[0];
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  QAT_CHECK(!loaded.quantized.layers.empty() || format != "packed", "qat export: ", path,
            " holds a full-precision model (quant.method and ptq.method are none); --format packed needs a "
            "quantized one");
  if (format == "packed") return export_packed(loaded, path, out);
  const onnx::ModelProto model = export_model(loaded, path);
  const std::string text_data = line.get("text-data");
  const int64_t text_examples = text_data.empty() ? 0 : write_text_data(loaded, text_data);
  const int64_t bytes = save_onnx(model, out);
  JsonLine result;
  result.add("command", "export")
      .add("checkpoint", path)
      .add("out", out)
      .add("format", format)
      .add("model", loaded.experiment.model().arch())
      .add("nodes", static_cast<int64_t>(model.graph().node_size()))
      .add("bytes", bytes);
  if (!text_data.empty()) result.add("text_data", text_data).add("text_examples", text_examples);
  return result.str();
}

}  // namespace qat
