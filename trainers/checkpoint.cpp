#include "trainers/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "engine/error.h"
#include "engine/hdf5_file.h"

namespace qat {
namespace {

using hdf5::Handle;

void write_group(hid_t file, const char* group_name, const std::map<std::string, Tensor>& tensors,
                 const std::string& path) {
  Handle group(hdf5::create_group(file, group_name), H5Gclose);
  QAT_CHECK(group.valid(), "checkpoint ", path, ": cannot create group '", group_name, "'");
  for (const auto& [name, tensor] : tensors)
    hdf5::write_tensor(group.get(), name, tensor, "checkpoint " + path);
}

std::map<std::string, Tensor> read_group(hid_t file, const char* group_name, const std::string& path) {
  std::map<std::string, Tensor> tensors;
  Handle group(H5Gopen2(file, group_name, H5P_DEFAULT), H5Gclose);
  QAT_CHECK(group.valid(), "checkpoint ", path, ": missing group '", group_name, "'");
  const std::string where = "checkpoint " + path + ": " + group_name;
  for (const std::string& name : hdf5::member_names(group.get(), where))
    tensors[name] = hdf5::read_tensor(group.get(), name, std::string(where).append("/").append(name));
  return tensors;
}

std::map<std::string, std::string> read_attributes(hid_t object, const std::string& path) {
  std::map<std::string, std::string> out;
  H5O_info_t info;
  QAT_CHECK(H5Oget_info(object, &info) >= 0, "checkpoint ", path, ": unreadable root group");
  const auto count = static_cast<hsize_t>(info.num_attrs);
  for (hsize_t i = 0; i < count; ++i) {
    Handle attr(H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    QAT_CHECK(attr.valid(), "checkpoint ", path, ": unreadable attribute ", i);
    const ssize_t name_size = H5Aget_name(attr.get(), 0, nullptr);
    std::string name(static_cast<size_t>(name_size), '\0');
    H5Aget_name(attr.get(), name.size() + 1, name.data());
    out[name] = hdf5::read_string_attribute(object, name, "checkpoint " + path);
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  hdf5::write_file(path, "checkpoint " + path, [&](hid_t file) {
    write_group(file, "model", checkpoint.model, path);
    if (!checkpoint.optimizer.empty()) write_group(file, "optimizer", checkpoint.optimizer, path);
    if (!checkpoint.ema.empty()) write_group(file, "ema", checkpoint.ema, path);
    if (!checkpoint.assets.empty()) write_group(file, "assets", checkpoint.assets, path);
    Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose);
    for (const auto& [name, value] : checkpoint.meta) hdf5::write_string_attribute(root.get(), name, value);
  });
}

Checkpoint load_checkpoint(const std::string& path) {
  hdf5::Quiet quiet;
  QAT_CHECK(std::filesystem::exists(path), "checkpoint ", path, ": no such file");
  QAT_CHECK(H5Fis_hdf5(path.c_str()) > 0, "checkpoint ", path, ": not an HDF5 file, or truncated");
  Handle file(hdf5::open_file(path), H5Fclose);
  QAT_CHECK(file.valid(), "checkpoint ", path, ": cannot open (truncated or corrupt HDF5)");
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  QAT_CHECK(root.valid(), "checkpoint ", path, ": unreadable root group");
  hdf5::require_checksummed_storage(root.get(), "checkpoint " + path + ": root group");
  Checkpoint checkpoint;
  checkpoint.model = read_group(file.get(), "model", path);
  if (H5Lexists(file.get(), "optimizer", H5P_DEFAULT) > 0)
    checkpoint.optimizer = read_group(file.get(), "optimizer", path);
  if (H5Lexists(file.get(), "ema", H5P_DEFAULT) > 0) checkpoint.ema = read_group(file.get(), "ema", path);
  if (H5Lexists(file.get(), "assets", H5P_DEFAULT) > 0)
    checkpoint.assets = read_group(file.get(), "assets", path);
  checkpoint.meta = read_attributes(root.get(), path);
  return checkpoint;
}

}  // namespace qat
