#include "util/input_file.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "dosim/error.h"

namespace dosim {

std::string input_file_problem(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error) return error.message();
  if (std::filesystem::is_directory(status)) return std::generic_category().message(EISDIR);
  if (!std::filesystem::is_regular_file(status))
    return "not a regular file (a device, a FIFO or a socket)";
  return "";
}

std::optional<std::string> read_input_file(const std::string& path, std::uintmax_t max_bytes,
                                           std::string& reason) {
  reason = input_file_problem(path);
  if (!reason.empty()) return std::nullopt;
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (!error && size > max_bytes) {
    reason = "larger than " + std::to_string(max_bytes >> 20) + " MiB";
    return std::nullopt;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    reason = std::generic_category().message(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[1 << 16];
  while (std::size_t count = std::fread(buffer, 1, sizeof buffer, file.get())) {
    text.append(buffer, count);
    if (text.size() > max_bytes) {  // it grew while being read
      reason = "larger than " + std::to_string(max_bytes >> 20) + " MiB";
      return std::nullopt;
    }
  }
  if (std::ferror(file.get())) {
    reason = std::generic_category().message(errno);
    return std::nullopt;
  }
  return text;
}

std::string read_input_text(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw InputError(path, "no such file");
  std::string reason;
  std::optional<std::string> text = read_input_file(path, max_bytes, reason);
  if (!text) throw InputError(path, reason);
  return std::move(*text);
}

}  // namespace dosim
