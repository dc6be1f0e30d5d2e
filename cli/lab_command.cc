// `dosim lab ...` (docs/labs.md): the teaching labs' grader. Grading runs a student's Lua
// script, Python detector, manifests or answers against the lab's scenarios on hidden
// seeds; the graders are Python files beside each lab (labs/<lab>/grader.py), so this
// command hands its arguments to dosim.labs.main in Python, with the dosim Python package of
// this build, and dosim's data folder (where labs/ is) in DOSIM_DATA_DIR.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "commands.h"
#include "util/data_dir.h"

#ifndef DOSIM_PYTHON_EXE
#define DOSIM_PYTHON_EXE "/usr/bin/python3"
#endif

namespace dosim::cli {
namespace {

namespace fs = std::filesystem;

// The build tree's package (build/cli/dosim -> build/python/dosim); an installed dosim's
// package is where the interpreter already looks.
std::string build_tree_package_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return "";
  const fs::path dir = exe.parent_path().parent_path() / "python";
  return fs::is_regular_file(dir / "dosim" / "labs.py", error) ? dir.string() : "";
}

}  // namespace

int lab_command(const std::vector<std::string>& args) {
  const char* configured = std::getenv("DOSIM_PYTHON");
  const std::string python = configured != nullptr && *configured ? configured : DOSIM_PYTHON_EXE;
  if (const std::string package = build_tree_package_dir(); !package.empty()) {
    std::string path = package;
    if (const char* old = std::getenv("PYTHONPATH"); old != nullptr && *old != '\0') {
      path += ':';
      path += old;
    }
    setenv("PYTHONPATH", path.c_str(), 1);
  }
  if (const std::string data = data_dir();
      !data.empty() && std::getenv("DOSIM_DATA_DIR") == nullptr)
    setenv("DOSIM_DATA_DIR", data.c_str(), 1);
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) setenv("DOSIM_BIN", self.c_str(), 1);  // graders that run the command itself

  // `python -m dosim.labs`, with a clear word when the package is not where Python looks.
  static const char* const kLauncher = R"(import sys
try:
    import dosim.labs
except ImportError as error:
    # Exit 2, as for any input that is missing: 1 is an autograder's "a task failed".
    print(f"dosim lab: cannot import the dosim Python package ({error}); install dosim "
          "(tools/quickstart.sh) or add its package folder to PYTHONPATH", file=sys.stderr)
    sys.exit(2)
sys.argv[0] = "dosim lab"
try:
    code = dosim.labs.main(sys.argv[1:])
    sys.stdout.flush()
except BrokenPipeError:  # `dosim lab list | head`: the reader left, as for any command
    import os
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
except KeyboardInterrupt:  # Ctrl-C: an interrupted command's exit, without a traceback
    code = 130
except OSError as error:  # standard output on a full device, or a grade file lost
    import os
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    print(f"dosim lab: cannot write the output: {error.strerror or error}", file=sys.stderr)
    code = 2
sys.exit(code)
)";
  std::vector<std::string> words = {python, "-c", kLauncher};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  execv(python.c_str(), argv.data());
  throw InputError("command line", "dosim lab needs Python (" + python +
                                       ", with Debian's python3-yaml and the dosim package): " +
                                       std::strerror(errno));
}

}  // namespace dosim::cli
