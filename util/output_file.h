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

// Writes `text` to `path` through `path`.tmp-<pid> and a rename. Returns "" or why it failed
// (the target is then untouched and the temporary file removed).
std::string write_file_replacing(const std::string& path, const std::string& text);

}  // namespace dosim
