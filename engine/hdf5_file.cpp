#include "engine/hdf5_file.h"

#include <algorithm>

#include "engine/atomic_file.h"
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
  QAT_CHECK(attr.valid() && H5Awrite(attr.get(), type, value) >= 0, "cannot write attribute '", name, "'");
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

// Before allocating: the shape a (possibly corrupt) header declares must not overflow and must fit in the
// bytes the dataset occupies and in the file (we never compress, so data cannot be larger than either).
void check_stored_size(hid_t set, const std::vector<hsize_t>& dims, size_t element,
                       const std::string& where) {
  hsize_t file_size = 0;
  const hid_t file = H5Iget_file_id(set);
  const bool sized = file >= 0 && H5Fget_filesize(file, &file_size) >= 0;
  if (file >= 0) H5Fclose(file);
  QAT_CHECK(sized, where, ": unreadable file size");
  const hsize_t limit = std::min<hsize_t>(file_size, H5Dget_storage_size(set));
  if (std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end()) return;  // nothing to allocate
  hsize_t bytes = element;
  for (const hsize_t d : dims) {
    QAT_CHECK(bytes <= limit / d, where, ": shape declares more data than the ", limit,
              " bytes stored (corrupt header?)");
    bytes *= d;
  }
}

// Links and attributes stay in the (checksummed) object header up to HDF5's limit of 65535 each, instead of
// moving to dense storage (unchecksummed fractal heaps) beyond 8.
void keep_compact(hid_t creation) {
  H5Pset_link_phase_change(creation, 65535, 6);
  H5Pset_attr_phase_change(creation, 65535, 6);
}

}  // namespace

hid_t create_file(const std::string& path) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(access.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose);  // the root group's storage, as create_group's
  keep_compact(creation.get());
  return H5Fcreate(path.c_str(), H5F_ACC_TRUNC, creation.get(), access.get());
}

hid_t create_group(hid_t parent, const std::string& name) {
  Handle creation(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  keep_compact(creation.get());
  return H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, creation.get(), H5P_DEFAULT);
}

void require_checksummed_storage(hid_t object, const std::string& where) {
  if (H5Iget_type(object) == H5I_GROUP || H5Iget_type(object) == H5I_FILE) {
    H5G_info_t info;
    QAT_CHECK(H5Gget_info(object, &info) >= 0, where, ": unreadable group");
    QAT_CHECK(info.storage_type == H5G_STORAGE_TYPE_COMPACT, where,
              ": links in storage HDF5 does not checksum (a file not written by qat, or corrupt)");
  }
  H5O_info_t info;
  QAT_CHECK(H5Oget_info2(object, &info, H5O_INFO_META_SIZE) >= 0, where, ": unreadable object header");
  // Dense attribute storage is a v2 B-tree index plus a fractal heap; compact storage has neither.
  QAT_CHECK(info.meta_size.attr.index_size == 0 && info.meta_size.attr.heap_size == 0, where,
            ": attributes in storage HDF5 does not checksum (a file not written by qat, or corrupt)");
}

void write_file(const std::string& path, const std::string& where, const std::function<void(hid_t)>& body) {
  Quiet quiet;
  const std::string temporary = path + ".tmp";
  commit_atomically(path, temporary, [&] {
    const hid_t file = create_file(temporary);
    QAT_CHECK(file >= 0, where, ": cannot create ", temporary);
    try {
      body(file);
    } catch (const Error& e) {
      H5Fclose(file);
      const std::string message = e.what();
      if (message.find(where) == std::string::npos) detail::fail(where, ": ", message);
      throw;
    }
    const bool flushed = H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0;
    const bool closed = H5Fclose(file) >= 0;
    QAT_CHECK(flushed && closed, where, ": writing ", temporary, " failed (disk full?)");
  });
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
            where, ": cannot write dataset '", name, "' (disk full?)");
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
  check_stored_size(set.get(), dims, size_of(dtype), where);
  Tensor tensor = Tensor::empty(Shape(dims.begin(), dims.end()), dtype);
  QAT_CHECK(H5Dread(set.get(), hdf5_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.raw()) >= 0, where,
            ": data is truncated or corrupt (checksum or size mismatch)");
  return tensor;
}

std::vector<std::string> member_names(hid_t group, const std::string& where) {
  require_checksummed_storage(group, where);
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
