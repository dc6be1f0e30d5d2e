// Trying something that may crash the process in a child process first.
//
// Debian's libhdf5 1.10 crashes (reads past buffers, asks for absurd allocations) on some
// corrupt files, inside the library, before dosim can check anything (fuzz/known-crashes/,
// docs/reliability.md). A reader of untrusted HDF5 input runs its read once in a forked
// child: if the child dies, the input is refused with a message instead of taking dosim
// down; if it finishes (or fails cleanly), the caller reads the file for real, and
// deterministically gets the same outcome without the risk.
// Thread-safe as fork() is: the child only runs `attempt` and _exit()s.
#pragma once

#include <functional>
#include <string>

namespace dosim {

// Runs `attempt` in a child process. Returns "" when it returned or threw (a clean failure
// the caller will meet again), else why the child died ("killed by signal 11 (Segmentation
// fault)", "exited with status 1"). Where fork() fails, runs nothing and returns "".
std::string crash_in_child(const std::function<void()>& attempt);

}  // namespace dosim
