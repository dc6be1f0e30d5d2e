// Alertmanager's own syntax, shared by the scenario loader (engine/), the routing
// (detectors/) and `dosim routes` (cli/): a classic matcher's value as Alertmanager's
// pkg/labels parser reads it, and a matcher's regular expression in Go's RE2 syntax
// translated to the ECMAScript std::regex runs (docs/detectors.md, "Notifications").
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>

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

// `pattern` anchored at both ends as Alertmanager anchors it (the text ^(?:pattern)$,
// translated whole, as Go parses it), compiled; nullopt with `why` as above. Match a value
// with std::regex_search, as Go's MatchString searches: the anchors make it a whole match.
std::optional<std::regex> compile_go_regex_anchored(std::string_view pattern, std::string& why);

}  // namespace dosim
