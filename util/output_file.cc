#include "util/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace dosim {

std::string unwritable_reason(const std::string& path) {
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0) {
    if (S_ISDIR(existing.st_mode)) return std::strerror(EISDIR);
    return ::access(path.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
  }
  if (errno != ENOENT) return std::strerror(errno);
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  return ::access(folder.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  if (std::filesystem::equivalent(a, b, error)) return true;
  // Absolute first: weakly_canonical leaves a relative path relative when none of it exists
  // ("y.h5" against "./y.h5", whose "." does).
  std::error_code error_a, error_b;
  const auto x = std::filesystem::weakly_canonical(std::filesystem::absolute(a, error_a), error_a);
  const auto y = std::filesystem::weakly_canonical(std::filesystem::absolute(b, error_b), error_b);
  return !error_a && !error_b && x == y;
}

std::string write_file_replacing(const std::string& path, const std::string& text) {
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode))
    return std::strerror(EISDIR);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  std::FILE* out = std::fopen(temporary.c_str(), "wb");
  if (out == nullptr) return std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  const int write_errno = errno;
  const bool closed = std::fclose(out) == 0;  // a full disk shows here
  const int close_errno = errno;
  if (!written || !closed) {
    std::remove(temporary.c_str());
    return std::strerror(!written ? write_errno : close_errno);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(temporary.c_str());
    return std::strerror(rename_errno);
  }
  return "";
}

}  // namespace dosim
