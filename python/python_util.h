// What the Python detectors and rankers share (python_detector.h, python_ranker.h): loading a
// user's .py file as a module, and a Python exception as a message. REQUIRES: the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace dosim::python {

// The module executed from `path`, once per process and file (a detector and a ranker of the
// same file share it). Raises what the module's code raises; InputError when the file cannot
// be loaded as a module.
pybind11::object load_module(const std::string& path);

// A Python file's name as the user named it (load_module's `path`) where it is a loaded
// module's absolute path (importlib makes it absolute in frames and code objects), else as
// it is.
std::string as_named(const std::string& file);

// "FILE:LINE: Type: message" of the innermost Python frame of the exception being handled;
// for a SyntaxError, "FILE:LINE:COL: SyntaxError: message" where the file's text is wrong.
// Keeps the exception (this thread's last) for take_python_cause.
std::string describe(pybind11::error_already_set& error);

// The Python exception that describe() last said on this thread, where `what` (an error's
// text about to reach Python) contains what it said, else None; forgotten either way. For
// `raise dosim.ScriptError(...) from` the user's own exception, with its traceback.
pybind11::object take_python_cause(const std::string& what);

}  // namespace dosim::python
