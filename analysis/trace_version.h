// What every trace reader does first: open the file, and check its root attributes format
// and format_version (docs/trace-format.md): another file, or a trace newer than this dosim
// reads, is refused, not misread.
#pragma once

#include <hdf5.h>

#include <string>

#include "util/hdf5.h"

namespace dosim {

// "" when `file` (an open HDF5 file) is a dosim trace (format = dosim-trace) of a format
// version this dosim reads (1 to kTraceFormatVersion, or none: the first traces), else why
// not.
std::string trace_version_problem(hid_t file);

// `path` opened read-only. Throws InputError(path, "cannot open trace: REASON") when it
// cannot be read or is no HDF5 file ("not an HDF5 file: ...", a scenario given for its trace
// said as such).
hdf5::File open_trace_file(const std::string& path);

}  // namespace dosim
