#include "experiments/export_command.h"

#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/json_line.h"
#include "quant/export/onnx_exporter.h"

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

}  // namespace

std::string run_export(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat export: expected one CHECKPOINT argument");
  const std::string format = line.get("format");
  const std::string out = line.get("out");
  QAT_CHECK(format == "onnx", "qat export: --format '", format, "' is not supported (supported: onnx)");
  QAT_CHECK(!out.empty(), "qat export: --out FILE is required");
  const std::string& path = line.positional[0];
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
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
