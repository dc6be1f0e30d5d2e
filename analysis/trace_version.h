// The check every trace reader makes of a file's root attributes format and format_version
// (docs/trace-format.md): another file, or a trace newer than this dosim reads, is refused,
// not misread.
#pragma once

#include <hdf5.h>

#include <string>

namespace dosim {

// "" when `file` (an open HDF5 file) is a dosim trace (format = dosim-trace) of a format
// version this dosim reads (1 to kTraceFormatVersion, or none: the first traces), else why
// not.
std::string trace_version_problem(hid_t file);

}  // namespace dosim
