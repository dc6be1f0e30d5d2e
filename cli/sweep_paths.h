// Parameter paths of a sweep (docs/sweep.md, "Paths"): which value of a scenario's YAML a
// sweep parameter sets, and the edit of the scenario's text that sets it.
//
//   path     := step ('.' step)*
//   step     := KEY | KEY '[' INDEX ']' | KEY '[' FIELD '=' VALUE (',' FIELD '=' VALUE)* ']'
//
// `services[name=api].capacity_rps`: the list `services`, its one entry whose `name` is
// `api`, its key `capacity_rps`. A selector must match exactly one entry. The last step may
// name a key that the mapping does not hold yet: the edit adds it.
//
// The text is edited in place (the value's bytes replaced, or a key inserted) rather than
// the YAML re-emitted, so that every other line and column stays where the user wrote it:
// EditedText maps a position in the edited text back to the original or to the edit that
// made it. Values addressed must be scalars written on one line.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace dosim::cli {

struct PathStep {
  std::string key;
  std::size_t offset = 0;  // of the key in the path
  enum class Select { kNone, kIndex, kMatch } select = Select::kNone;
  std::size_t index = 0;
  std::vector<std::pair<std::string, std::string>> match;  // FIELD=VALUE, in order
  std::vector<std::size_t> match_offsets;                  // of each FIELD in the path
  std::size_t select_offset = 0;                           // of the selector in the path
};

// A problem with a path: the message and the offset in the path it is about.
struct PathProblem {
  std::string message;
  std::size_t offset = 0;
};

// Parses `path`; returns false and sets `problem` when it is not a path.
bool parse_path(const std::string& path, std::vector<PathStep>& steps, PathProblem& problem);

// An edit of a text: bytes [begin, end) become prefix + value + suffix.
struct TextEdit {
  std::size_t begin = 0, end = 0;
  std::string prefix, suffix;
};

// Where `steps` lead in `root`, the document loaded from `text`: the edit that writes a value
// there. Returns false and sets `problem` when the path addresses nothing (or a list or a
// mapping rather than a value).
bool locate_path(const YAML::Node& root, const std::string& text,
                 const std::vector<PathStep>& steps, TextEdit& edit, PathProblem& problem);

// A value as YAML that reads back as `value`: as it is when that is safe in a flow mapping,
// else double-quoted. `quoted`: quote it anyway (the sweep file quoted it).
std::string yaml_scalar(const std::string& value, bool quoted);

// A text with edits applied (each edit with its value; edits must not overlap, insertions at
// one point go in the order given), and the way back from a position in it.
class EditedText {
 public:
  EditedText(const std::string& original, std::vector<std::pair<TextEdit, std::string>> edits);
  const std::string& text() const { return text_; }

  // Where 1-based (line, column) of the edited text comes from: the index of the edit that
  // wrote it (`in_key`: in the key an insertion wrote, not in the value), or -1 and the
  // (line, column) in the original.
  struct Origin {
    int edit = -1;
    bool in_key = false;
    int line = 0, column = 0;
  };
  Origin origin(int line, int column) const;

 private:
  struct Span {  // an edit, in both texts
    std::size_t original_begin, original_end, edited_begin, edited_end;
    int edit;
    std::size_t prefix;  // bytes of the edit's prefix
  };
  static std::vector<std::size_t> line_starts(const std::string& text);
  std::string text_;
  std::vector<Span> spans_;  // by position
  std::vector<std::size_t> original_lines_, edited_lines_;
};

}  // namespace dosim::cli
