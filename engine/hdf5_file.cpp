#include "engine/hdf5_file.h"

#include <algorithm>

#include "engine/error.h"

namespace qat::hdf5 {
namespace {

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
  detail::fail("hdf5: dtype ", to_string(dtype), " cannot be stored");
}

DType dtype_of(hid_t type, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT && size == 4) return DType::f32;
  if (cls == H5T_INTEGER && size == 4) return DType::s32;
  if (cls == H5T_INTEGER && size == 1) return H5Tget_sign(type) == H5T_SGN_NONE ? DType::u8 : DType::s8;
  detail::fail(where, ": unsupported element type");
}

void write_scalar_attribute(hid_t object, const std::string& name, hid_t type, const void* value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr.get(), type, value);
}

// Reads a scalar attribute converted by HDF5 to `type`; errors name the attribute.
void read_scalar_attribute(hid_t object, const std::string& name, hid_t type, H5T_class_t cls, void* out,
                           const std::string& where) {
  QAT_CHECK(has_attribute(object, name), where, ": missing attribute '", name, "'");
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle stored(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  QAT_CHECK(H5Tget_class(stored.get()) == cls && H5Sget_simple_extent_npoints(space.get()) == 1, where,
            ": attribute '", name, "' is not a scalar ", cls == H5T_INTEGER ? "integer" : "float");
  QAT_CHECK(H5Aread(attr.get(), type, out) >= 0, where, ": attribute '", name, "' is corrupt");
}

}  // namespace

Quiet::Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Quiet::~Quiet() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

// Dataset creation properties: one chunk holding the whole tensor with HDF5's Fletcher-32 checksum, which
// H5Dread verifies, so a flipped byte fails the read instead of loading a wrong value. (Filters need a
// chunked layout; scalars and empty tensors cannot be chunked and stay contiguous.)
void add_checksum(hid_t properties, const std::vector<hsize_t>& dims) {
  const bool chunkable =
      !dims.empty() && std::all_of(dims.begin(), dims.end(), [](hsize_t d) { return d > 0; });
  if (!chunkable) return;
  H5Pset_chunk(properties, static_cast<int>(dims.size()), dims.data());
  H5Pset_fletcher32(properties);
}

}  // namespace

hid_t create_file(const std::string& path) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(access.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  return H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
}

hid_t open_file(const std::string& path) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG);
  return H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
}

void write_tensor(hid_t group, const std::string& name, const Tensor& tensor, const std::string& where) {
  const Tensor plain = tensor.dtype() == DType::bf16 ? tensor.to(DType::f32) : tensor.contiguous();
  std::vector<hsize_t> dims(plain.shape().begin(), plain.shape().end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle layout(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  add_checksum(layout.get(), dims);
  Handle set(H5Dcreate2(group, name.c_str(), hdf5_type(plain.dtype()), space.get(), H5P_DEFAULT, layout.get(),
                        H5P_DEFAULT),
             H5Dclose);
  QAT_CHECK(set.valid() && H5Dwrite(set.get(), hdf5_type(plain.dtype()), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    plain.raw()) >= 0,
            where, ": cannot write dataset '", name, "'");
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
            ": data is truncated or corrupt (checksum or size mismatch)");
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

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  write_scalar_attribute(object, name, type.get(), value.empty() ? "" : value.data());
}

void write_int_attribute(hid_t object, const std::string& name, int64_t value) {
  write_scalar_attribute(object, name, H5T_NATIVE_INT64, &value);
}

void write_float_attribute(hid_t object, const std::string& name, float value) {
  write_scalar_attribute(object, name, H5T_NATIVE_FLOAT, &value);
}

std::string read_string_attribute(hid_t object, const std::string& name, const std::string& where) {
  QAT_CHECK(has_attribute(object, name), where, ": missing attribute '", name, "'");
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  QAT_CHECK(H5Tget_class(type.get()) == H5T_STRING, where, ": attribute '", name, "' is not a string");
  std::string value(H5Tget_size(type.get()), '\0');
  QAT_CHECK(H5Aread(attr.get(), type.get(), value.data()) >= 0, where, ": attribute '", name, "' is corrupt");
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  return value;
}

int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& where) {
  int64_t value = 0;
  read_scalar_attribute(object, name, H5T_NATIVE_INT64, H5T_INTEGER, &value, where);
  return value;
}

float read_float_attribute(hid_t object, const std::string& name, const std::string& where) {
  float value = 0;
  read_scalar_attribute(object, name, H5T_NATIVE_FLOAT, H5T_FLOAT, &value, where);
  return value;
}

bool has_attribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

}  // namespace qat::hdf5
