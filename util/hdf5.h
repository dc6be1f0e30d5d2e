// dosim's one HDF5 module: RAII handles, the error set-up, the reason of the last failure.
// Used by the trace writer and reader (analysis/) and the lstm model reader
// (detectors/lstm_model.cc).
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
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

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

}  // namespace dosim::hdf5
