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

std::string output_target(const std::string& path) {
  std::filesystem::path target(path);
  for (int links = 0; links < 40; ++links) {  // as many as the kernel follows
    std::error_code error;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(target, error))) break;
    const std::filesystem::path next = std::filesystem::read_symlink(target, error);
    if (error) break;
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  return target.string();
}

bool is_special_file(const std::string& path) {
  struct stat existing;
  return ::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode) &&
         !S_ISDIR(existing.st_mode);
}

void keep_permissions(const std::string& target, const std::string& temporary) {
  struct stat existing;
  if (::stat(target.c_str(), &existing) == 0) ::chmod(temporary.c_str(), existing.st_mode & 07777);
}

namespace {

// Writes `text` to `path` opened as it is; "" or why not.
std::string write_in_place(const std::string& path, const std::string& text) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  const int write_errno = errno;
  const bool closed = std::fclose(out) == 0;  // a full disk shows here
  const int close_errno = errno;
  if (!written || !closed) return std::strerror(!written ? write_errno : close_errno);
  return "";
}

}  // namespace

std::string write_file_replacing(const std::string& path, const std::string& text) {
  if (is_special_file(path)) return write_in_place(path, text);
  const std::string target = output_target(path);
  struct stat existing;
  if (::stat(target.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode))
    return std::strerror(EISDIR);
  const std::string temporary = target + ".tmp-" + std::to_string(::getpid());
  if (const std::string reason = write_in_place(temporary, text); !reason.empty()) {
    std::remove(temporary.c_str());
    return reason;
  }
  keep_permissions(target, temporary);
  if (std::rename(temporary.c_str(), target.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(temporary.c_str());
    return std::strerror(rename_errno);
  }
  return "";
}

}  // namespace dosim
