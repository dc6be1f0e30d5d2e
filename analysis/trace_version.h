// The check every trace reader makes of a file's root attribute format_version
// (docs/trace-format.md): a trace newer than this dosim reads is refused, not misread.
#pragma once

#include <hdf5.h>

#include <string>

namespace dosim {

// "" when the trace at `file` (an open HDF5 file) is of a format version this dosim reads
// (kTraceFormatVersion or older, or it has none), else why not.
std::string trace_version_problem(hid_t file);

}  // namespace dosim
