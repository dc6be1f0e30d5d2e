// Alertmanager's own syntax, shared by the scenario loader (engine/), the routing
// (detectors/) and `dosim routes` (cli/): a classic matcher's value as Alertmanager's
// pkg/labels parser reads it, and a matcher's regular expression in Go's RE2 syntax,
// checked with Go's words and run by RE2 (docs/detectors.md, "Notifications").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace dosim {

// A matcher's value as Alertmanager reads it (pkg/labels/parse.go): `raw` is the text after
// the operator, blanks around it removed. A value that starts with a double quote ends with
// one; \n, \" and \\ are unescaped, another escape is kept as written (the backslash too),
// a backslash at the end is literal. nullopt, with `why` set in Alertmanager's words, for a
// double quote that is not the expected final one.
std::optional<std::string> alertmanager_matcher_value(std::string_view raw, std::string& why);

// Go's regular expression `pattern` (RE2 syntax, as Alertmanager compiles a matcher's
// regex) as an ECMAScript pattern for std::regex with the same matches, or nullopt with
// `why`: Go's own error for what Go refuses ("invalid nested repetition operator: `**`"),
// or what dosim does not translate though Go accepts it (Unicode classes \p, negated POSIX
// classes, non-ASCII characters in a class, ^ after the start in (?m) mode), said as such.
// Letters fold as ASCII only under (?i); `.` and negated classes match one byte.
std::optional<std::string> go_regex_to_ecmascript(std::string_view pattern, std::string& why);

// A compiled matcher regex, run by RE2 (Go's regexp is RE2's syntax and semantics): time
// linear in the value, whatever the pattern.
class GoRegex {
 public:
  // Whether `value` matches, as Go's MatchString of the anchored pattern: the whole value.
  bool matches(std::string_view value) const;

 private:
  friend std::optional<GoRegex> compile_go_regex_anchored(std::string_view, std::string&);
  std::shared_ptr<const re2::RE2> re_;
};

// `pattern` anchored at both ends as Alertmanager anchors it (the text ^(?:pattern)$, read
// whole, as Go parses it), compiled; nullopt with `why`: Go's own error for what Go refuses
// (go_regex_to_ecmascript's checks), else RE2's for what RE2 refuses. What the ECMAScript
// translation does not cover (Unicode classes, ...) RE2 runs as Go does.
std::optional<GoRegex> compile_go_regex_anchored(std::string_view pattern, std::string& why);

}  // namespace dosim
