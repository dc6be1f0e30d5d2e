#include "util/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "dosim/error.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;

bool holds_data(const fs::path& folder) {
  std::error_code ignored;
  return fs::is_directory(folder / "models", ignored) &&
         fs::is_regular_file(folder / "scenarios" / "schema.json", ignored);
}

std::string find_data_dir() {
  if (const char* env = std::getenv("DOSIM_DATA_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return "";
  for (fs::path folder = exe.parent_path(); !folder.empty(); folder = folder.parent_path()) {
    if (holds_data(folder / "share" / "dosim")) return (folder / "share" / "dosim").string();
    if (holds_data(folder)) return folder.string();
    if (folder == folder.root_path()) break;
  }
  return "";
}

}  // namespace

std::string data_dir() {
  static const std::string dir = find_data_dir();  // thread-safe initialization
  return dir;
}

std::string data_path(const std::string& relative) {
  const std::string dir = data_dir();
  if (dir.empty())
    throw InputError(relative,
                     "cannot find dosim's data folder (models/, scenarios/) beside the binary; "
                     "set DOSIM_DATA_DIR to it (an installed dosim has it in share/dosim)");
  return (fs::path(dir) / relative).string();
}

}  // namespace dosim
