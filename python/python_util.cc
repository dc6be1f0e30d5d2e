#include "python/python_util.h"

#include <filesystem>
#include <map>

#include "dosim/error.h"

namespace dosim::python {

namespace py = pybind11;

namespace {

// describe()'s last exception on this thread and what it said. Never destroyed (a thread's
// objects may outlive the interpreter): replaced under the GIL only.
struct LastCause {
  py::object exception;
  std::string said;
};
LastCause& last_cause() {
  thread_local auto* kept = new LastCause();
  return *kept;
}

// The path each loaded module was named by, by its absolute path: importlib makes a module's
// file absolute, and an error names it as the scenario (and a Lua script's error) does.
std::map<std::string, std::string>& named_paths() {
  static auto* paths = new std::map<std::string, std::string>();  // never destroyed, as modules
  return *paths;
}

}  // namespace

std::string as_named(const std::string& file) {
  const auto found = named_paths().find(file);
  return found == named_paths().end() ? file : found->second;
}

std::string describe(py::error_already_set& error) {
  // A SyntaxError (IndentationError too) is about the user's file at a line and column, not
  // about the frame that compiled it (importlib's).
  try {
    if (error.matches(PyExc_SyntaxError)) {
      const py::object value = error.value();
      const py::object file = value.attr("filename"), line = value.attr("lineno");
      if (!file.is_none() && !line.is_none()) {
        const py::object offset = value.attr("offset");
        std::string at = as_named(py::str(file).cast<std::string>()) + ":" +
                         std::to_string(line.cast<long>()) + ":";
        if (!offset.is_none() && offset.cast<long>() > 0)
          at += std::to_string(offset.cast<long>()) + ":";
        return at + " " + py::str(error.type().attr("__name__")).cast<std::string>() + ": " +
               py::str(value.attr("msg")).cast<std::string>();
      }
    }
  } catch (const py::error_already_set&) {
    // not readable as a SyntaxError: said as any exception below
  }
  std::string where;
  try {
    if (error.trace()) {
      const py::list frames = py::module_::import("traceback").attr("extract_tb")(error.trace());
      if (!frames.empty()) {
        const py::object last = frames[frames.size() - 1];
        where = as_named(py::str(last.attr("filename")).cast<std::string>()) + ":" +
                std::to_string(last.attr("lineno").cast<int>()) + ": ";
      }
    }
  } catch (const py::error_already_set&) {
    where.clear();  // no traceback to read: the message alone
  }
  const std::string type = py::str(error.type().attr("__name__")).cast<std::string>();
  std::string said = where + type + ": " + py::str(error.value()).cast<std::string>();
  py::object exception = error.value();
  if (error.trace() && PyException_SetTraceback(exception.ptr(), error.trace().ptr()) != 0)
    PyErr_Clear();  // kept without its traceback
  last_cause() = {exception, said};
  return said;
}

py::object take_python_cause(const std::string& what) {
  LastCause kept = std::move(last_cause());
  last_cause() = {};
  if (kept.said.empty() || what.find(kept.said) == std::string::npos) return py::none();
  return kept.exception;
}

py::object load_module(const std::string& path) {
  // Never destroyed: the interpreter may be gone when static destructors run.
  static auto* modules = new std::map<std::string, py::object>();
  const std::string key = std::filesystem::absolute(path).lexically_normal().string();
  if (auto found = modules->find(key); found != modules->end()) return found->second;
  const py::module_ util = py::module_::import("importlib.util");
  const std::string name = "dosim_detector_" + std::to_string(modules->size());
  const py::object spec = util.attr("spec_from_file_location")(name, key);
  if (spec.is_none()) throw InputError(path, "cannot load it as a Python module");
  named_paths().emplace(key, path);
  named_paths().emplace(std::filesystem::absolute(path).string(), path);  // importlib's form
  py::object module = util.attr("module_from_spec")(spec);
  py::module_::import("sys").attr("modules")[py::str(name)] = module;
  spec.attr("loader").attr("exec_module")(module);
  modules->emplace(key, module);
  return module;
}

}  // namespace dosim::python
