// Helpers shared by the libFuzzer harnesses (fuzz/*.cc): the bytes of an input as a file,
// for readers that only take a path (HDF5, Lua scripts). Not thread-safe; libFuzzer runs one
// input at a time per process.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hdf5.h"

namespace dosim::fuzz {

// A file of this process's own under $TMPDIR (else /tmp), rewritten for each input.
inline std::string scratch_path(const char* suffix) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dosim-fuzz-" +
         std::to_string(getpid()) + suffix;
}

// Writes data to path (truncating); aborts when the file cannot be written, which is a
// broken set-up, not a finding.
inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

// Every HDF5 object a reader opened is closed again, on success and on every error path
// (the RAII handles of util/hdf5.h): aborts naming how many are left open otherwise.
// (Memory libhdf5 itself loses on a corrupt file is not ours: fuzz/lsan.supp.)
inline void require_no_open_hdf5_objects() {
  const ssize_t open_objects = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_objects != 0) {
    std::fprintf(stderr, "%zd HDF5 objects left open\n", open_objects);
    std::abort();
  }
}

}  // namespace dosim::fuzz
