#include "trainers/checkpoint.h"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "engine/error.h"

namespace qat {
namespace {

// Owns an HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Silences HDF5's own error printing for the scope; we report errors ourselves.
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

hid_t hdf5_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return H5T_NATIVE_FLOAT;
    case DType::s32:
      return H5T_NATIVE_INT32;
    case DType::s8:
      return H5T_NATIVE_INT8;
    case DType::u8:
      return H5T_NATIVE_UINT8;
    case DType::bf16:
      break;
  }
  detail::fail("checkpoint: dtype ", to_string(dtype), " cannot be stored");
}

void write_tensor(hid_t group, const std::string& name, const Tensor& tensor, const std::string& path) {
  const Tensor plain = tensor.dtype() == DType::bf16 ? tensor.to(DType::f32) : tensor.contiguous();
  std::vector<hsize_t> dims(plain.shape().begin(), plain.shape().end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(group, name.c_str(), hdf5_type(plain.dtype()), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose);
  QAT_CHECK(set.valid() && H5Dwrite(set.get(), hdf5_type(plain.dtype()), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    plain.raw()) >= 0,
            "checkpoint ", path, ": cannot write dataset '", name, "'");
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr.get(), type.get(), value.empty() ? "" : value.data());
}

void write_group(hid_t file, const char* group_name, const std::map<std::string, Tensor>& tensors,
                 const std::string& path) {
  Handle group(H5Gcreate2(file, group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  for (const auto& [name, tensor] : tensors) write_tensor(group.get(), name, tensor, path);
}

DType dtype_of(hid_t type, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT && size == 4) return DType::f32;
  if (cls == H5T_INTEGER && size == 4) return DType::s32;
  if (cls == H5T_INTEGER && size == 1) return H5Tget_sign(type) == H5T_SGN_NONE ? DType::u8 : DType::s8;
  detail::fail(where, ": unsupported element type");
}

Tensor read_tensor(hid_t group, const std::string& name, const std::string& where) {
  Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  QAT_CHECK(set.valid(), where, ": cannot open dataset");
  Handle space(H5Dget_space(set.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  QAT_CHECK(rank >= 0, where, ": unreadable shape");
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  Handle type(H5Dget_type(set.get()), H5Tclose);
  const DType dtype = dtype_of(type.get(), where);
  Tensor tensor = Tensor::empty(Shape(dims.begin(), dims.end()), dtype);
  QAT_CHECK(H5Dread(set.get(), hdf5_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.raw()) >= 0, where,
            ": data is truncated or corrupt");
  return tensor;
}

std::vector<std::string> member_names(hid_t group) {
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

std::map<std::string, Tensor> read_group(hid_t file, const char* group_name, const std::string& path) {
  std::map<std::string, Tensor> tensors;
  Handle group(H5Gopen2(file, group_name, H5P_DEFAULT), H5Gclose);
  QAT_CHECK(group.valid(), "checkpoint ", path, ": missing group '", group_name, "'");
  for (const std::string& name : member_names(group.get()))
    tensors[name] = read_tensor(group.get(), name, "checkpoint " + path + ": " + group_name + "/" + name);
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
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    QAT_CHECK(H5Tget_class(type.get()) == H5T_STRING, "checkpoint ", path, ": attribute '", name,
              "' is not a string");
    std::string value(H5Tget_size(type.get()), '\0');
    QAT_CHECK(H5Aread(attr.get(), type.get(), value.data()) >= 0, "checkpoint ", path, ": attribute '", name,
              "' is corrupt");
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
    out[name] = value;
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  QuietHdf5 quiet;
  const std::string temporary = path + ".tmp";
  {
    Handle file(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    QAT_CHECK(file.valid(), "checkpoint ", path, ": cannot create ", temporary);
    write_group(file.get(), "model", checkpoint.model, path);
    if (!checkpoint.optimizer.empty()) write_group(file.get(), "optimizer", checkpoint.optimizer, path);
    if (!checkpoint.ema.empty()) write_group(file.get(), "ema", checkpoint.ema, path);
    if (!checkpoint.assets.empty()) write_group(file.get(), "assets", checkpoint.assets, path);
    Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    for (const auto& [name, value] : checkpoint.meta) write_string_attribute(root.get(), name, value);
  }
  std::filesystem::rename(temporary, path);
}

Checkpoint load_checkpoint(const std::string& path) {
  QuietHdf5 quiet;
  QAT_CHECK(std::filesystem::exists(path), "checkpoint ", path, ": no such file");
  QAT_CHECK(H5Fis_hdf5(path.c_str()) > 0, "checkpoint ", path, ": not an HDF5 file, or truncated");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  QAT_CHECK(file.valid(), "checkpoint ", path, ": cannot open (truncated or corrupt HDF5)");
  Checkpoint checkpoint;
  checkpoint.model = read_group(file.get(), "model", path);
  if (H5Lexists(file.get(), "optimizer", H5P_DEFAULT) > 0)
    checkpoint.optimizer = read_group(file.get(), "optimizer", path);
  if (H5Lexists(file.get(), "ema", H5P_DEFAULT) > 0) checkpoint.ema = read_group(file.get(), "ema", path);
  if (H5Lexists(file.get(), "assets", H5P_DEFAULT) > 0)
    checkpoint.assets = read_group(file.get(), "assets", path);
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  checkpoint.meta = read_attributes(root.get(), path);
  return checkpoint;
}

}  // namespace qat
