// Writing an output file (a report, a page) so that a failure loses nothing: the text goes
// to a temporary file beside the target, which replaces the target only once it is whole.
// Thread-safe for distinct paths.
#pragma once

#include <string>

namespace dosim {

// Why `path` cannot be written ("Permission denied", "Is a directory"), or "" when it can:
// checked before a long run, so that its result is not lost at the end.
std::string unwritable_reason(const std::string& path);

// Whether `a` and `b` name the same file: the same device and inode where both exist, else
// the same path once made absolute and normal (an output about to be made, named twice).
bool same_file(const std::string& a, const std::string& b);

// Where an output named `path` goes: the file a symbolic link at `path` names (links
// followed, so that the link is kept), else `path`.
std::string output_target(const std::string& path);

// Whether `path` exists and is not a regular file or a folder (a device, a pipe, a socket):
// such an output is written in place, never replaced.
bool is_special_file(const std::string& path);

// Gives `temporary` the permission bits of `target` where it exists (a replaced output keeps
// them, as a file rewritten in place would).
void keep_permissions(const std::string& target, const std::string& temporary);

// Writes `text` to `path`: through a temporary file beside the file it names
// (output_target) and a rename, keeping that file's permissions; a device or pipe
// (is_special_file) directly. Returns "" or why it failed (the target is then untouched
// and the temporary file removed; a full device says so).
std::string write_file_replacing(const std::string& path, const std::string& text);

}  // namespace dosim
