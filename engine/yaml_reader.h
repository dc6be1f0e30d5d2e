// Typed, position-aware reading of yaml-cpp nodes, for the scenario loader.
//
// Reading never stops at a problem: each one becomes a Diagnostic at the 1-based position of
// the node it is about, the getter returns nullopt, and the caller keeps its default and goes on
// checking the rest of the file. At the end Diagnostics::throw_if_any() throws one InputError
// holding every problem.
//
// A value that loads but is likely a mistake (a duration written as a bare number, a percent
// written as a ratio) becomes a warning instead: kept apart, never thrown, handed to the
// Scenario (Scenario::warnings) when the file has no error.
//
// MapReader reads one YAML mapping against the keys it may hold. Its constructor reports a node
// that is not a mapping, duplicate keys and unknown keys ("did you mean" when one is close); its
// getters report missing required keys (at the mapping's position), wrong types and values out
// of range (at the value's position). Labels in messages quote the key: "'capacity_rps'".
//
// Not thread-safe; readers and collectors live for one load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dosim/engine/scenario.h"
#include "dosim/engine/sim_time.h"
#include "dosim/error.h"

namespace dosim {

// Collects the problems found in one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // `pos` {0, 0} means the file as a whole.
  void error(SourcePos pos, std::string message);
  // A value that loads but is likely not what the user meant.
  void warning(SourcePos pos, std::string message);
  // A problem in another file the scenario names (a replayed CSV file); listed after this
  // file's own problems.
  void add(Diagnostic diagnostic);
  // Every error and warning of another file's diagnostics (a file the scenario points at).
  void merge(const Diagnostics& other);
  // True when there is no error (warnings do not count).
  bool empty() const { return list_.empty(); }
  std::size_t error_count() const { return list_.size(); }
  // Throws InputError with every error, ordered by position, if there is any; warnings are
  // left out.
  void throw_if_any() const;
  // The warnings, ordered by position.
  std::vector<Diagnostic> warnings() const;
  // The errors, ordered by position.
  std::vector<Diagnostic> errors() const;

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
  std::vector<Diagnostic> warnings_;
};

// 1-based position of a node; {0, 0} when yaml-cpp has none (an absent node).
SourcePos pos_of(const YAML::Node& node);

// A YAML document that does not read, as a problem: where yaml-cpp stopped ({0, 0}: it says
// nowhere) and what it says, "YAML syntax error: ...", or that it nests deeper than yaml-cpp
// reads (its own words for that are "bad file").
// Given the document's `text`, an error on a line indented with a tab says so (yaml-cpp
// says "illegal block entry" of a tab before a list's '-').
Diagnostic yaml_error(const std::string& file, const YAML::Exception& error,
                      std::string_view text = {});
// Why `text` is not a text file, or "" when it is: NUL bytes or invalid UTF-8 (strictly: no
// surrogate or overlong form, which readers of the trace's names refuse).
std::string binary_reason(const std::string& text);

// Where aliases make the first document of `text` hold more than `limit` nodes beyond those
// it writes (an alias stands for every node of its anchor; aliases of aliases multiply: ten
// lines can stand for 10^10 nodes, which reading would walk), the alias that crosses the
// limit; nullopt where they do not, or where the text does not parse (yaml-cpp says so).
// Linear in the text.
std::optional<SourcePos> alias_expansion_past(const std::string& text, std::uint64_t limit);
// The problem at that alias, in `file`, when the aliases add more than a million nodes.
std::optional<Diagnostic> alias_expansion_problem(const std::string& text, const std::string& file);

// A quoted scalar whose closing quote never comes (YAML reads the rest of the file into
// it, yaml-cpp without a word): where it opens; nullopt when every quote is closed.
std::optional<Diagnostic> unclosed_quote_problem(const std::string& text, const std::string& file);

// pos_of says an empty value that read_entries met at its key; this forgets them (the nodes
// keep their document alive): call it once a document has been read.
void forget_empty_values();
// Lets pos_of say an empty item of a block list (`-` and nothing after it) at its `-`, found
// in `text`, the document `root` was read from: yaml-cpp marks it where the next token starts
// (the next item, or the first line after the list, past the end of a file that ends there).
// Forgotten with the empty values.
void note_empty_items(const YAML::Node& root, std::string_view text);

// What a node is, for "got ..." in messages: "'abc'", "a list", "a mapping", "nothing".
std::string describe(const YAML::Node& node);

// A number for messages: whole numbers in full ("1000000"), others as the shortest text that
// reads back the same ("0.05").
std::string format_number(double value);

// The allowed values of a number: bounds that are each open, closed or absent.
struct Range {
  double low = -1e308;
  double high = 1e308;
  bool low_open = false;
  bool high_open = false;

  static Range any() { return {}; }
  static Range at_least(double low) { return {low, 1e308, false, false}; }
  static Range above(double low) { return {low, 1e308, true, false}; }
  static Range closed(double low, double high) { return {low, high, false, false}; }
  static Range half_open(double low, double high) { return {low, high, false, true}; }
  static Range above_to(double low, double high) { return {low, high, true, false}; }

  bool contains(double value) const;
  // ">= 0", "> 0", "in [0, 1]", "in [0, 24)".
  std::string describe() const;
};

// Readers of one value node; `label` names it in messages ("'replicas'") and problems are
// reported at `pos`. They return nullopt, and report, when the node has the wrong type or a
// value outside `range`.
std::optional<std::string> read_text(const YAML::Node& node, SourcePos pos,
                                     const std::string& label, Diagnostics& diags);

// A YAML 1.2 boolean (true, True, TRUE, false, False, FALSE), or nullopt for any other text
// (yes/no are YAML 1.1's, strings in 1.2).
std::optional<bool> yaml_boolean(std::string_view text);
// The words of a key that takes true or false and got `text`.
std::string not_a_boolean(std::string_view key, std::string_view text);
// A number written in quotes ("0.2"), which YAML reads as text: a warning at `pos` that
// dosim takes it as the number (an error with --strict). Kubernetes manifests quote numbers
// by their schema (Chaos Mesh's `value: "50"`): their readers do not ask.
void warn_if_quoted_number(const YAML::Node& node, SourcePos pos, const std::string& label,
                           Diagnostics& diags);
std::optional<double> read_number(const YAML::Node& node, SourcePos pos, const std::string& label,
                                  Range range, Diagnostics& diags);
std::optional<std::int64_t> read_integer(const YAML::Node& node, SourcePos pos,
                                         const std::string& label, Range range, Diagnostics& diags);
// Durations as in parse_duration(); `range` is in nanoseconds. Warns for a bare number other
// than 0 (read as seconds), unless the node carries kSecondsTag (a script's number, which is
// seconds by the Lua API's definition: docs/lua-api.md).
inline constexpr const char* kSecondsTag = "tag:dosim:seconds";
std::optional<SimTime> read_duration(const YAML::Node& node, SourcePos pos,
                                     const std::string& label, Range range, Diagnostics& diags);

// One key: value pair of a mapping, in file order.
struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;

  SourcePos key_pos() const { return pos_of(key_node); }
  // The value's position, or the key's when the value is empty (yaml-cpp then points past it).
  SourcePos value_pos() const { return value.IsNull() ? key_pos() : pos_of(value); }
};

// The pairs of a mapping; reports (naming it `what`) a node that is not one, keys that are not
// plain scalars and duplicate keys (only the first of each is returned).
std::vector<MapEntry> read_entries(const YAML::Node& node, const std::string& what,
                                   Diagnostics& diags);

enum class Need { kOptional, kRequired };

// A mapping's unknown keys are reported one by one up to this many, then counted ("and N
// more unknown keys in ..."): a mapping with thousands of stray keys gives a short message.
constexpr std::size_t kMaxUnknownKeys = 20;

class MapReader {
 public:
  // `what` names the mapping in messages ("service"); `keys` are all the keys it may hold.
  MapReader(const YAML::Node& node, std::string what, std::initializer_list<std::string_view> keys,
            Diagnostics& diags);

  bool is_map() const { return is_map_; }
  SourcePos pos() const { return pos_of(node_); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Position of the key itself / of its value (the key's when the value is empty).
  // Without the key: the position of the mapping itself.
  SourcePos key_pos(std::string_view key) const;
  SourcePos value_pos(std::string_view key) const;

  // The value node, or nullopt when absent (reported if required).
  std::optional<YAML::Node> value(std::string_view key, Need need = Need::kOptional);
  std::optional<std::string> text(std::string_view key, Need need = Need::kOptional);
  std::optional<bool> boolean(std::string_view key, Need need = Need::kOptional);  // true, false
  std::optional<double> number(std::string_view key, Range range, Need need = Need::kOptional);
  std::optional<std::int64_t> integer(std::string_view key, Range range,
                                      Need need = Need::kOptional);
  std::optional<SimTime> duration(std::string_view key, Range range, Need need = Need::kOptional);
  // A number documented as a percent (`percent: 20` is 20 %), as written; warns for a value
  // strictly between 0 and 1, likely a ratio ("0.5" meant as 50 %).
  std::optional<double> percent(std::string_view key, Range range, Need need = Need::kOptional);
  // The items of a list; an empty value is an empty list. Anything else is reported.
  std::vector<YAML::Node> list(std::string_view key, Need need = Need::kOptional);

 private:
  const MapEntry* find(std::string_view key) const;
  // The entry, or nullptr when absent; reports a required key that is absent.
  const MapEntry* lookup(std::string_view key, Need need);

  YAML::Node node_;
  std::string what_;
  Diagnostics& diags_;
  bool is_map_ = false;
  std::vector<MapEntry> entries_;
  // The keys suggested for unknown ones ('duraton': duration): missing, they are not said
  // again as missing.
  std::vector<std::string> suggested_;
};

}  // namespace dosim
