// The errors dosim reports to its users, each carrying the positions they come from.
//
// Loading never stops at the first problem: every check adds a Diagnostic and one Error
// holding all of them is thrown. A front end prints each diagnostic on its own line
// (`FILE:LINE:COL: message` for a scenario, `FILE:LINE: message` for a script, `FILE: message`
// for a file as a whole, an HDF5 file's message naming the dataset) and, for an Error, exits
// with code 2 (kExitBadInput). Lines and columns are 1-based; 0 means "not known".
//
// The kinds (catch Error to catch them all):
//   - InputError: bad input: a scenario, the command line, a CSV or model file, a path;
//   - ModelError: an lstm model file that cannot be read as one (an InputError), where it
//     is read alone (bench_detector_spec); planning a run says it in its InputError;
//   - ScriptError: a Lua script that fails while a run goes on (one that does not compile,
//     or whose main chunk fails, is among the InputError's problems of RunPlan::load);
//   - RunControlError: a run-time control call (Simulation::add_fault, a script's sim.*)
//     that cannot be carried out (a start in the past, an unknown index).
// Programmer errors are assertions, never these. Warnings are Diagnostics with
// `warning = true`: printed, never thrown unless a front end is strict.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dosim {

struct Diagnostic {
  std::string file;  // "" when `message` is already complete (a Lua error says where)
  int line = 0;
  int column = 0;
  std::string message;
  bool warning = false;
  // The problems this line says: more for a long list's last line, which counts those left
  // unlisted ("50 more problems not listed"), so that a front end's total is of them all.
  std::size_t problems = 1;

  // "FILE:LINE:COL: message" ("FILE:LINE:COL: warning: message" for a warning), "FILE:LINE:
  // message" without a column, "FILE: message" without a line: one line, the control
  // characters of `message` (user text it quotes) escaped. A message without a file is
  // complete as it is (a Lua error and its traceback) and is kept as written.
  std::string format() const;
};

// `list` in the order a user reads it: `file`'s first, then each other file's in the order
// they first appear, each file's by line and column (a stable sort); a diagnostic identical to
// an earlier one (a value reused through a YAML alias, checked twice) is kept once.
std::vector<Diagnostic> by_position(std::vector<Diagnostic> list, const std::string& file);

// The length of the valid UTF-8 sequence at text[i] (1 to 4), 0 where none starts there: no
// overlong form, no surrogate (U+D800 to U+DFFF), nothing past U+10FFFF.
std::size_t utf8_sequence(std::string_view text, std::size_t i);

// True when `text` (UTF-8) holds a control character: C0 (below U+0020, a tab or a line
// break among them), DEL, C1 (U+0080 to U+009F, NEL among them) or a Unicode line or
// paragraph separator (U+2028, U+2029).
bool has_control_character(std::string_view text);

// `text` with each such character written as an escape, so that quoted user text stays on its
// line and cannot move the cursor: "\n", "\r", "\t", "\x1b", "\u0085", "\u2028".
std::string escape_control_characters(std::string_view text);

// Base of every error that ends an operation for the user; what() joins the diagnostics.
class Error : public std::runtime_error {
 public:
  explicit Error(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Bad user input (scenario, command line, files). Never for bugs.
class InputError : public Error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics) : Error(std::move(diagnostics)) {}
  InputError(std::string file, std::string message);
};

// A model file (HDF5) that is not a valid model: `file` is the path, the message names the
// dataset or attribute.
class ModelError : public InputError {
 public:
  using InputError::InputError;
};

// A Lua script failed to compile or to run: the message is "FILE:LINE: message", followed
// by a Lua traceback when known.
class ScriptError : public Error {
 public:
  explicit ScriptError(const std::string& message);
};

// A run-time control call that cannot be carried out (see Simulation's contract).
class RunControlError : public Error {
 public:
  explicit RunControlError(const std::string& message);
};

// Closest candidate by edit distance when close enough to be a likely typo, else the
// shortest candidate that starts with `word` (an abbreviation); else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" for the closest candidate, or "" when none is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dosim
