#include "util/hdf5.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

namespace dosim::hdf5 {
namespace {

// A variable-length C string type in the character set of `stored`.
Datatype variable_string_type(hid_t stored, const std::string& path) {
  Datatype memory(check(H5Tcopy(H5T_C_S1), path));
  check(H5Tset_size(memory.get(), H5T_VARIABLE), path);
  check(H5Tset_cset(memory.get(), H5Tget_cset(stored)), path);
  return memory;
}

// Fixed-length, null-padded UTF-8 string type of `width` bytes (at least 1).
Datatype string_type(std::size_t width) {
  Datatype type(check(H5Tcopy(H5T_C_S1), "string type"));
  check(H5Tset_size(type.get(), std::max<std::size_t>(1, width)), "string size");
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "string pad");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "string cset");
  return type;
}

// `values` packed into `width`-byte null-padded cells.
std::vector<char> pack_strings(std::span<const std::string> values, std::size_t width) {
  std::vector<char> cells(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(cells.data() + i * width, values[i].data(), values[i].size());
  return cells;
}

// A contiguous dataset written once, without time stamps.
Dataset create_dataset(hid_t parent, const std::string& name, hid_t type, hid_t space) {
  PropertyList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "dcpl"));
  check(H5Pset_obj_track_times(dcpl.get(), 0), "dcpl times");
  return Dataset(check(
      H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), name));
}

// An attribute holding exactly one value (a corrupt or foreign file may give it many, which
// would be read past the one value's memory).
Attribute open_attribute(hid_t object, const std::string& name) {
  if (!has_attribute(object, name)) throw Failure(name, "no attribute " + name);
  Attribute attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
  if (!attribute.valid()) throw Failure(name, "cannot open attribute " + name);
  const Dataspace space(H5Aget_space(attribute.get()));
  if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1)
    throw Failure(name, "attribute " + name + " must hold one value");
  return attribute;
}

// The size of the file that holds `object`, or 0 when unknown.
hsize_t file_size_of(hid_t object) {
  const hid_t file = H5Iget_file_id(object);
  if (file < 0) return 0;
  hsize_t size = 0;
  if (H5Fget_filesize(file, &size) < 0) size = 0;
  H5Fclose(file);
  return size;
}

// Refuses to allocate for a dataset or attribute that claims more bytes than its file could
// hold: deflate, the only filter dosim writes, compresses at most about 1032:1.
void check_claimed_bytes(hid_t object, double bytes, const std::string& path) {
  const double most = 1032.0 * static_cast<double>(file_size_of(object)) + (1 << 20);
  if (bytes > most)
    throw Failure(path, path + " claims " + std::to_string(std::llround(std::min(bytes, 1e18))) +
                            " bytes, more than its file could hold");
}

}  // namespace

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

bool exists(hid_t loc, const std::string& path) {
  return H5Lexists(loc, path.c_str(), H5P_DEFAULT) > 0;
}

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

std::vector<std::string> member_names(hid_t loc, const std::string& path) {
  const Group group = open_group(loc, path);
  std::vector<std::string> names;
  const auto add = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t index = 0;
  if (H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, add, &names) < 0)
    throw Failure(path, "cannot list " + path);
  return names;
}

Group open_group(hid_t loc, const std::string& path) {
  if (path != "/" && !exists(loc, path)) throw Failure(path, "no group " + path);
  Group group(H5Gopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!group.valid()) throw Failure(path, "cannot open " + path);
  return group;
}

Dataset open_dataset(hid_t loc, const std::string& path) {
  if (!exists(loc, path)) throw Failure(path, "no dataset " + path);
  Dataset dataset(H5Dopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!dataset.valid()) throw Failure(path, "cannot open " + path);
  return dataset;
}

std::vector<hsize_t> shape_of(const Dataset& dataset, const std::string& path) {
  const Dataspace space(H5Dget_space(dataset.get()));
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) throw Failure(path, "cannot read the shape of " + path);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    throw Failure(path, "cannot read the shape of " + path);
  return dims;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path) {
  const Dataset dataset = open_dataset(loc, path);
  const Datatype type(H5Dget_type(dataset.get()));
  if (!type.valid()) throw Failure(path, "cannot read " + path);
  if (H5Tget_class(type.get()) != H5T_STRING) throw Failure(path, path + " is not text");
  const std::vector<hsize_t> dims = shape_of(dataset, path);
  if (dims.size() != 1) throw Failure(path, path + " must be a 1-D list of strings");
  const auto count = static_cast<std::size_t>(dims[0]);
  std::vector<std::string> values;
  if (count == 0) return values;
  check_claimed_bytes(dataset.get(),
                      static_cast<double>(count) * static_cast<double>(std::max<std::size_t>(
                                                       H5Tget_size(type.get()), sizeof(char*))),
                      path);
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> cells(count, nullptr);
    const Datatype memory = variable_string_type(type.get(), path);
    if (H5Dread(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) < 0)
      throw Failure(path, "cannot read " + path);
    for (char* cell : cells) values.emplace_back(cell != nullptr ? cell : "");
    const Dataspace space(H5Dget_space(dataset.get()));
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, cells.data());
    return values;
  }
  const std::size_t width = H5Tget_size(type.get());
  std::vector<char> cells(count * width);
  if (H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) < 0)
    throw Failure(path, "cannot read " + path);
  for (std::size_t i = 0; i < count; ++i) {
    const char* cell = cells.data() + i * width;
    values.emplace_back(cell, strnlen(cell, width));
  }
  return values;
}

std::string read_scalar_string(hid_t loc, const std::string& path) {
  const Dataset dataset = open_dataset(loc, path);
  const Datatype type(H5Dget_type(dataset.get()));
  if (!type.valid()) throw Failure(path, "cannot read " + path);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0)
    throw Failure(path, path + " is not a fixed-length string");
  if (!shape_of(dataset, path).empty()) throw Failure(path, path + " must be a scalar string");
  const std::size_t width = H5Tget_size(type.get());
  check_claimed_bytes(dataset.get(), static_cast<double>(width), path);
  std::vector<char> cell(width);
  if (H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cell.data()) < 0)
    throw Failure(path, "cannot read " + path);
  return std::string(cell.data(), strnlen(cell.data(), width));
}

std::string read_string_attribute(hid_t object, const std::string& name) {
  const Attribute attribute = open_attribute(object, name);
  const Datatype type(H5Aget_type(attribute.get()));
  if (!type.valid()) throw Failure(name, "cannot read attribute " + name);
  if (H5Tget_class(type.get()) != H5T_STRING) throw Failure(name, name + " is not text");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* text = nullptr;
    const Datatype memory = variable_string_type(type.get(), name);
    if (H5Aread(attribute.get(), memory.get(), &text) < 0 || text == nullptr)
      throw Failure(name, "cannot read attribute " + name);
    std::string value(text);
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  check_claimed_bytes(attribute.get(), static_cast<double>(size), name);
  std::string value(size, '\0');
  if (H5Aread(attribute.get(), type.get(), value.data()) < 0)
    throw Failure(name, "cannot read attribute " + name);
  value.resize(strnlen(value.data(), size));
  return value;
}

Group make_group(hid_t parent, const std::string& name) {
  PropertyList gcpl(check(H5Pcreate(H5P_GROUP_CREATE), "gcpl"));
  check(H5Pset_obj_track_times(gcpl.get(), 0), "gcpl times");
  return Group(check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), name));
}

void write_strings(hid_t parent, const std::string& name, std::span<const std::string> values) {
  std::size_t width = 1;
  for (const std::string& value : values) width = std::max(width, value.size());
  const Datatype type = string_type(width);
  const hsize_t dims[1] = {values.size()};
  const Dataspace space(check(H5Screate_simple(1, dims, nullptr), name));
  const Dataset dataset = create_dataset(parent, name, type.get(), space.get());
  if (values.empty()) return;
  const std::vector<char> cells = pack_strings(values, width);
  check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()), name);
}

void write_scalar_string(hid_t parent, const std::string& name, const std::string& text) {
  const Datatype type = string_type(text.size());
  const Dataspace space(check(H5Screate(H5S_SCALAR), name));
  const Dataset dataset = create_dataset(parent, name, type.get(), space.get());
  const std::vector<char> cell =
      pack_strings(std::span(&text, 1), std::max<std::size_t>(1, text.size()));
  check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cell.data()), name);
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& text) {
  const Datatype type = string_type(text.size());
  const std::vector<char> cell =
      pack_strings(std::span(&text, 1), std::max<std::size_t>(1, text.size()));
  detail::write_attribute(object, name, type.get(), type.get(), cell.data());
}

namespace detail {

std::size_t element_count(const Dataset& dataset, const std::string& path,
                          std::size_t element_bytes) {
  const Dataspace space(H5Dget_space(dataset.get()));
  const hssize_t count = space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
  if (count < 0) throw Failure(path, "cannot read the shape of " + path);
  check_claimed_bytes(dataset.get(),
                      static_cast<double>(count) * static_cast<double>(element_bytes), path);
  return static_cast<std::size_t>(count);
}

void read_dataset(const Dataset& dataset, const std::string& path, hid_t memory_type, void* out) {
  if (H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    throw Failure(path, "cannot read " + path);
}

void read_attribute(hid_t object, const std::string& name, hid_t memory_type, void* out) {
  const Attribute attribute = open_attribute(object, name);
  const Datatype type(H5Aget_type(attribute.get()));
  const H5T_class_t type_class = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT)
    throw Failure(name, "attribute " + name + " must be a number");
  if (H5Aread(attribute.get(), memory_type, out) < 0)
    throw Failure(name, "cannot read attribute " + name);
}

void write_numbers(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                   const void* values, std::size_t count) {
  const hsize_t dims[1] = {count};
  const Dataspace space(check(H5Screate_simple(1, dims, nullptr), name));
  const Dataset dataset = create_dataset(parent, name, file_type, space.get());
  if (count == 0) return;
  check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), name);
}

void write_attribute(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                     const void* value) {
  const Dataspace space(check(H5Screate(H5S_SCALAR), name));
  const Attribute attribute(check(
      H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), name));
  check(H5Awrite(attribute.get(), memory_type, value), name);
}

}  // namespace detail
}  // namespace dosim::hdf5
