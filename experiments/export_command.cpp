#include "experiments/export_command.h"

#include <google/protobuf/text_format.h>

#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/json_line.h"
#include "quant/export/onnx_exporter.h"
#include "quant/export/packed_file.h"

namespace qat {
namespace {

// The graph input of the configs' dataset: Fashion-MNIST images are 28x28.
OnnxExportOptions onnx_options(const config::Experiment& e) {
  const config::DataConfig& d = e.data();
  QAT_CHECK(d.dataset() == "fashion_mnist", "qat export: data.dataset '", d.dataset(),
            "' is not supported (supported: fashion_mnist)");
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

}  // namespace

std::string run_export(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat export: expected one CHECKPOINT argument");
  const std::string format = line.get("format");
  const std::string out = line.get("out");
  QAT_CHECK(format == "onnx" || format == "packed", "qat export: --format '", format,
            "' is not supported (supported: onnx, packed)");
  QAT_CHECK(!out.empty(), "qat export: --out FILE is required");
  const std::string& path = line.positional[0];
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  QAT_CHECK(!loaded.quantized.layers.empty() || format != "packed", "qat export: ", path,
            " holds a full-precision model (quant.method is none); --format packed needs a quantized one");
  if (format == "packed") return export_packed(loaded, path, out);
  const std::string& arch = loaded.experiment.model().arch();
  QAT_CHECK(arch == "resnet20", "qat export: ", path, ": architecture '", arch,
            "' is not supported (supported: resnet20)");
  const onnx::ModelProto model = export_onnx(*loaded.model, onnx_options(loaded.experiment));
  const int64_t bytes = save_onnx(model, out);
  JsonLine result;
  result.add("command", "export")
      .add("checkpoint", path)
      .add("out", out)
      .add("format", format)
      .add("model", arch)
      .add("nodes", static_cast<int64_t>(model.graph().node_size()))
      .add("bytes", bytes);
  return result.str();
}

}  // namespace qat
