// dosim's one HDF5 module: RAII handles, the error set-up, the reason of the last failure,
// and the read and write helpers shared by the trace writer and reader (analysis/) and the
// lstm model reader (detectors/lstm_model.cc).
//
// Thread-safety rule: Debian's HDF5 is built without its thread-safe option, so every HDF5
// call in a process happens on one thread at a time. dosim keeps HDF5 on the thread that
// plans and reports a run: traces are written by the run's own thread, and models are read
// once while the run is planned (an lstm model is shared, read-only, by every run of a
// bench or nab sweep), never on worker threads.
//
// A Handle owns one hid_t and closes it with the matching H5?close function when it goes
// out of scope; moving transfers ownership, copying is not allowed. Predefined types
// (H5T_NATIVE_*, H5T_STD_*) and H5P_DEFAULT are not owned and must never be wrapped.
//
// error_reason() reads the reason for the last failure off HDF5's error stack; call it right
// after the failing call (any other HDF5 API call clears the stack). Call quiet_errors()
// before the first HDF5 call: dosim reports HDF5's failures itself.
//
// Failures: every helper below throws Failure, whose path() names the dataset, attribute or
// group concerned (as the caller spelled it) and whose what() is a short sentence naming it.
// Callers turn it into their own InputError or ModelError naming the file.
//
// Reading input that may be corrupt or hostile: nothing is allocated for a dataset or
// attribute that claims more bytes than its file could hold (1032 times the file's size, the
// best deflate does, plus 1 MiB); an attribute read as one value must hold exactly one, of a
// numeric or text class as asked.
//
// Writing: objects are created without time stamps, and with no other creation property that
// varies between runs, so the same calls in the same order write the same bytes.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dosim::hdf5 {

// Turns off HDF5's automatic printing of its error stack, once per process (idempotent).
void quiet_errors();

template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { close(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

  // Closes now. Returns false if HDF5 reported an error (for a file: a failed final flush).
  bool close() {
    if (id_ < 0) return true;
    const herr_t status = Close(id_);
    id_ = H5I_INVALID_HID;
    return status >= 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using PropertyList = Handle<H5Pclose>;
using Attribute = Handle<H5Aclose>;

// The innermost description on the default error stack, which is where the operating
// system's reason ends up ("No such file or directory"); "unknown HDF5 error" if empty.
inline std::string error_reason() {
  std::string reason;
  auto innermost = [](unsigned position, const H5E_error2_t* error, void* out) -> herr_t {
    if (position == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &reason);
  // The POSIX driver says "..., error message = 'No such file or directory', ...".
  const std::string marker = "error message = '";
  if (const auto begin = reason.find(marker); begin != std::string::npos) {
    const auto text = begin + marker.size();
    const auto end = reason.find('\'', text);
    if (end != std::string::npos) return reason.substr(text, end - text);
  }
  return reason.empty() ? "unknown HDF5 error" : reason;
}

// An HDF5 read or write failed, or the data is not of the form asked for.
class Failure : public std::runtime_error {
 public:
  Failure(std::string path, const std::string& message)
      : std::runtime_error(message), path_(std::move(path)) {}
  // The dataset, attribute or group, as the caller named it.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Returns `id` (a handle or a status); throws Failure(path, "PATH: REASON") if it is negative.
template <typename Id>
Id check(Id id, const std::string& path) {
  if (id < 0) throw Failure(path, path + ": " + error_reason());
  return id;
}

// The native memory type of T (H5T_NATIVE_INT64 for std::int64_t, ...).
template <typename T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return H5T_NATIVE_UINT64;
  else if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return H5T_NATIVE_DOUBLE;
  else
    static_assert(sizeof(T) == 0, "no native HDF5 type for T");
}

// ---- Reading. `loc` is a file or group; `path` is relative to it ("truth/incidents/id").

// Whether a link `path` exists under `loc`; false also where a group on the way is missing.
bool exists(hid_t loc, const std::string& path);
// Whether `object` has an attribute `name`.
bool has_attribute(hid_t object, const std::string& name);

// The names of the links in the group at `path`, in name order. Throws as open_group.
std::vector<std::string> member_names(hid_t loc, const std::string& path);
// The group at `path` ("/" is `loc`'s root). Throws "no group PATH" or "cannot open PATH".
Group open_group(hid_t loc, const std::string& path);
// The dataset at `path`. Throws "no dataset PATH" or "cannot open PATH".
Dataset open_dataset(hid_t loc, const std::string& path);
// The dimensions of `dataset` (none for a scalar); `path` names it in a Failure.
std::vector<hsize_t> shape_of(const Dataset& dataset, const std::string& path);

namespace detail {
// The number of elements of `dataset`; throws when they would take more than `element_bytes`
// each beyond what its file could hold (a corrupt or hostile size), before anything is allocated.
std::size_t element_count(const Dataset& dataset, const std::string& path,
                          std::size_t element_bytes);
void read_dataset(const Dataset& dataset, const std::string& path, hid_t memory_type, void* out);
void read_attribute(hid_t object, const std::string& name, hid_t memory_type, void* out);
void write_numbers(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                   const void* values, std::size_t count);
void write_attribute(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                     const void* value);
}  // namespace detail

// Every element of `dataset`, in row-major order, converted to T. Throws "cannot read PATH".
template <typename T>
std::vector<T> read_numbers(const Dataset& dataset, const std::string& path) {
  std::vector<T> values(detail::element_count(dataset, path, sizeof(T)));
  if (!values.empty()) detail::read_dataset(dataset, path, native_type<T>(), values.data());
  return values;
}

// Every element of the dataset at `path`, converted to T.
template <typename T>
std::vector<T> read_numbers(hid_t loc, const std::string& path) {
  return read_numbers<T>(open_dataset(loc, path), path);
}

// A 1-D dataset of strings, fixed-length (null-padded or null-terminated) or variable-length.
// Throws "PATH is not text", "PATH must be a 1-D list of strings", "cannot read PATH".
std::vector<std::string> read_strings(hid_t loc, const std::string& path);
// A scalar fixed-length string dataset (what write_scalar_string writes).
std::string read_scalar_string(hid_t loc, const std::string& path);

// A numeric attribute of `object`, converted to T. Throws "no attribute NAME" or "cannot read
// attribute NAME".
template <typename T>
T read_attribute(hid_t object, const std::string& name) {
  T value{};
  detail::read_attribute(object, name, native_type<T>(), &value);
  return value;
}

// A string attribute, fixed- or variable-length. Throws as read_attribute, or "NAME is not
// text".
std::string read_string_attribute(hid_t object, const std::string& name);

// ---- Writing. `parent` is a file or group; `name` is one link name.

// A new group without time stamps.
Group make_group(hid_t parent, const std::string& name);

// A new 1-D contiguous dataset of `file_type` (H5T_STD_I64LE, ...) holding `values`.
template <typename T>
void write_numbers(hid_t parent, const std::string& name, hid_t file_type,
                   std::span<const T> values) {
  detail::write_numbers(parent, name, file_type, native_type<T>(), values.data(), values.size());
}

// A new 1-D dataset of fixed-length, null-padded UTF-8 strings as wide as the longest value
// (at least 1 byte).
void write_strings(hid_t parent, const std::string& name, std::span<const std::string> values);

// A new scalar dataset holding `text` as a fixed-length, null-padded UTF-8 string.
void write_scalar_string(hid_t parent, const std::string& name, const std::string& text);

// A new scalar attribute of `file_type` holding `value`.
template <typename T>
void write_attribute(hid_t object, const std::string& name, hid_t file_type, const T& value) {
  detail::write_attribute(object, name, file_type, native_type<T>(), &value);
}

// A new scalar attribute holding `text` as a fixed-length, null-padded UTF-8 string.
void write_string_attribute(hid_t object, const std::string& name, const std::string& text);

}  // namespace dosim::hdf5
