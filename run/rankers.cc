#include "run/rankers.h"

#include <algorithm>

#include "scripting/lua_ranker.h"
#include "util/input_file.h"

namespace dosim {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// `message` with `context` at the end of its first line (a Lua traceback stays below).
std::string with_context(const std::string& message, const std::string& context) {
  const std::size_t newline = message.find('\n');
  if (newline == std::string::npos) return message + context;
  return message.substr(0, newline) + context + message.substr(newline);
}

// Whether the file of one of the scenario's rankers can be read; if not, says so.
bool ranker_file_readable(const Scenario& scenario, const RcaRankerSpec& spec,
                          std::vector<Diagnostic>& problems) {
  std::string reason;
  if (read_input_file(spec.file, kMaxScriptBytes, reason)) return true;
  problems.push_back(
      {scenario.file, spec.file_pos.line, spec.file_pos.column,
       "root-cause ranker '" + spec.name + "': cannot read " + spec.written + ": " + reason});
  return false;
}

// Makes one of the scenario's rankers; its problems go to `problems`.
RcaRanker make_scenario_ranker(const Scenario& scenario, const RcaRankerSpec& spec,
                               const RunOptions& options, std::uint64_t seed,
                               std::vector<Diagnostic>& problems) {
  const std::string who = "root-cause ranker '" + spec.name + "'";
  if (!ranker_file_readable(scenario, spec, problems)) return {};
  try {
    if (spec.python) return make_python_ranker(spec.file, spec.function);
    SandboxLimits limits;
    limits.instruction_budget = options.lua_instructions;
    limits.memory_limit = static_cast<std::size_t>(options.lua_memory_mib) << 20;
    return make_lua_ranker(spec.file, spec.function, seed, limits);
  } catch (const ScriptError& error) {
    // An error inside the file: at its line there ("FILE:LINE: message").
    for (Diagnostic d : error.diagnostics()) {
      d.message = with_context(d.message, " (" + who + ")");
      problems.push_back(std::move(d));
    }
  } catch (const Error& error) {
    for (const Diagnostic& d : error.diagnostics()) {
      if (d.line > 0 || !d.file.empty())
        problems.push_back(d);
      else
        problems.push_back(
            {scenario.file, spec.file_pos.line, spec.file_pos.column, who + ": " + d.message});
    }
  }
  return {};
}

}  // namespace

std::vector<std::string> run_ranker_names(const Scenario& scenario, const RunOptions& options) {
  std::vector<std::string> names = scenario.rca.rankers;
  for (const auto& [name, ranker] : options.rankers)
    if (!contains(names, name)) names.push_back(name);
  return names;
}

namespace {

// Checks every ranker name (rca_ranker_names' contract); returns the scenario's own rankers
// that have a file to make.
std::vector<const RcaRankerSpec*> checked_rankers(const Scenario& scenario,
                                                  const RunOptions& options, bool playbooks,
                                                  std::vector<Diagnostic>& problems) {
  const std::vector<std::string>& builtin = rca_ranker_names();
  std::vector<std::string> known = builtin;
  std::vector<const RcaRankerSpec*> to_make;
  for (const RcaRankerSpec& spec : scenario.rca.custom) {
    if (spec.name.empty()) continue;  // the loader said so
    const auto problem = [&](const std::string& message) {
      problems.push_back({scenario.file, spec.pos.line, spec.pos.column, message});
    };
    if (contains(builtin, spec.name)) {
      problem("root-cause ranker '" + spec.name +
              "' is a built-in ranker's name; give yours another");
    } else if (contains(known, spec.name)) {
      problem("root-cause ranker '" + spec.name + "' is named twice");
    } else {
      known.push_back(spec.name);
      if (!spec.file.empty()) to_make.push_back(&spec);
    }
  }
  for (const auto& [name, ranker] : options.rankers) {
    // As a scenario's ranker's `name`: it names the rankings' rows and a playbook's `ranker`.
    if (name.empty() || has_control_character(name))
      problems.push_back({"rankers", 0, 0,
                          name.empty() ? std::string("a root-cause ranker's name must not be empty")
                                       : "root-cause ranker '" + name +
                                             "': a name must not hold control characters (a "
                                             "line break, a tab)"});
    else if (contains(known, name))
      problems.push_back({"rankers", 0, 0,
                          "root-cause ranker '" + name +
                              "' is a built-in ranker's or the "
                              "scenario's already: give yours another name"});
    else if (!ranker)
      problems.push_back({"rankers", 0, 0, "root-cause ranker '" + name + "' is empty"});
    known.push_back(name);
  }
  std::vector<std::string> listed;
  for (std::size_t r = 0; r < scenario.rca.rankers.size(); ++r) {
    const std::string& name = scenario.rca.rankers[r];
    if (name.empty()) continue;  // an entry without a name: the loader said so
    const SourcePos pos =
        r < scenario.rca.ranker_pos.size() ? scenario.rca.ranker_pos[r] : SourcePos{};
    // A built-in ranker listed twice would rank every incident twice. Said above already: a
    // ranker of the scenario's own named twice, and this entry where it is one of the
    // scenario's own taking a built-in ranker's name.
    const bool said_above =
        std::any_of(scenario.rca.custom.begin(), scenario.rca.custom.end(),
                    [&](const RcaRankerSpec& spec) {
                      return spec.name == name &&
                             (!contains(builtin, name) ||
                              (spec.pos.line == pos.line && spec.pos.column == pos.column));
                    });
    if (contains(listed, name) && !said_above)
      problems.push_back({scenario.file, pos.line, pos.column,
                          "root-cause ranker '" + name + "' is listed twice"});
    listed.push_back(name);
    if (contains(known, name)) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    problems.push_back({scenario.file, pos.line, pos.column,
                        "unknown root-cause ranker '" + name + "' (rankers: " + list + ")" +
                            did_you_mean(name, known)});
  }
  // A playbook step blaming the top cause (`target: rca`) names a ranker the run has.
  if (playbooks)
    for (const PlaybookSpec& playbook : scenario.playbooks)
      for (const PlaybookStep& step : playbook.steps)
        if (!step.ranker.empty() && !contains(known, step.ranker))
          problems.push_back({scenario.file, step.ranker_pos.line, step.ranker_pos.column,
                              "unknown root-cause ranker '" + step.ranker + "' in playbook '" +
                                  playbook.name + "'" + did_you_mean(step.ranker, known)});
  return to_make;
}

}  // namespace

void check_rca_names(const Scenario& draft, const RunOptions& options,
                     std::vector<Diagnostic>& problems) {
  // A ranker's missing file, and a Lua ranker's own problems (its syntax, a missing
  // function: it is made in its sandbox), are said with the scenario's other problems, not
  // after them. A Python ranker's code runs once the scenario loads, as a Python detector's.
  for (const RcaRankerSpec* spec : checked_rankers(draft, options, true, problems)) {
    if (spec->python)
      ranker_file_readable(draft, *spec, problems);
    else
      make_scenario_ranker(draft, *spec, options, options.seed.value_or(draft.seed), problems);
  }
}

std::function<std::string(const PlaybookSpec&)> playbook_ranker_check(const Scenario& scenario,
                                                                      const RunOptions& options) {
  std::vector<std::string> known = rca_ranker_names();
  for (const RcaRankerSpec& spec : scenario.rca.custom)
    if (!spec.name.empty()) known.push_back(spec.name);
  for (const auto& [name, ranker] : options.rankers) known.push_back(name);
  return [known](const PlaybookSpec& playbook) -> std::string {
    for (const PlaybookStep& step : playbook.steps)
      if (!step.ranker.empty() && !contains(known, step.ranker)) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        return "unknown root-cause ranker '" + step.ranker + "' (rankers: " + list + ")" +
               did_you_mean(step.ranker, known);
      }
    return "";
  };
}

NamedRcaRankers make_run_rankers(const Scenario& scenario, const RunOptions& options,
                                 std::uint64_t seed, std::vector<Diagnostic>& problems) {
  const std::vector<const RcaRankerSpec*> to_make =
      checked_rankers(scenario, options, true, problems);
  NamedRcaRankers rankers;
  for (const RcaRankerSpec* spec : to_make)
    if (RcaRanker made = make_scenario_ranker(scenario, *spec, options, seed, problems))
      rankers.emplace_back(spec->name, std::move(made));
  for (const auto& [name, ranker] : options.rankers) rankers.emplace_back(name, ranker);
  return rankers;
}

}  // namespace dosim
