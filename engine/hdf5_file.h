#pragma once
// HDF5 helpers shared by checkpoints and packed models: owned identifiers, quiet error printing, tensors
// as datasets and scalars/strings as attributes. Every failure names `where` (file and entry).
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace qat::hdf5 {

/// Owns an HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  /// The identifier.
  hid_t get() const { return id_; }
  /// False when the call that made it failed.
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// Silences HDF5's own error printing for the scope; we report errors ourselves.
class Quiet {
 public:
  Quiet();
  ~Quiet();
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// Creates (truncates) `path` in the latest file format, whose metadata — superblock, object headers with
/// their attributes and links (the root group's kept compact, see create_group) — HDF5 checksums, as
/// write_tensor checksums data; returns the file id
/// (negative on failure), to be owned by a Handle with H5Fclose.
hid_t create_file(const std::string& path);
/// Creates group `name` in `parent` keeping its links and attributes in its object header (compact
/// storage), which the latest format checksums; returns the group id (negative on failure), to be owned
/// by a Handle with H5Gclose.
hid_t create_group(hid_t parent, const std::string& name);
/// Refuses an object (group or file root) whose links or attributes HDF5 keeps in dense storage: a
/// fractal heap whose blocks it does not checksum, where a corrupt byte can crash HDF5 itself (found by
/// tests/fuzz/fuzz_checkpoint). Files written by create_file and create_group never use it.
void require_checksummed_storage(hid_t object, const std::string& where);
/// Writes a new HDF5 file at `path` atomically: `body` fills the file (its id) created at `path + ".tmp"`,
/// which is flushed, closed (both checked: a full disk fails here) and renamed over `path`. On any failure
/// the temporary file is removed, `path` is left as it was and the error names `where`.
void write_file(const std::string& path, const std::string& where, const std::function<void(hid_t)>& body);
/// Opens `path` read-only so that closing the file also closes whatever is still open in it (a read that
/// failed halfway through a corrupt file leaves nothing behind); returns the file id (negative on failure).
hid_t open_file(const std::string& path);
/// Writes `tensor` (plain copy; bf16 as f32) as dataset `name` of `group`, with a Fletcher-32 checksum
/// that reading verifies.
void write_tensor(hid_t group, const std::string& name, const Tensor& tensor, const std::string& where);
/// Reads dataset `name` of `group` (f32, s32, s8 or u8).
Tensor read_tensor(hid_t group, const std::string& name, const std::string& where);
/// Names of the members of `group` in name order, after require_checksummed_storage(group, where).
std::vector<std::string> member_names(hid_t group, const std::string& where);

/// Writes a fixed-length string attribute.
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
/// Writes a scalar int64 attribute.
void write_int_attribute(hid_t object, const std::string& name, int64_t value);
/// Writes a scalar f32 attribute.
void write_float_attribute(hid_t object, const std::string& name, float value);
/// Reads a string attribute.
std::string read_string_attribute(hid_t object, const std::string& name, const std::string& where);
/// Reads an integer attribute (any integer width).
int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& where);
/// Reads a float attribute.
float read_float_attribute(hid_t object, const std::string& name, const std::string& where);
/// True when `object` has attribute `name`.
bool has_attribute(hid_t object, const std::string& name);

}  // namespace qat::hdf5
