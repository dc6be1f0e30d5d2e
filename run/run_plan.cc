// RunPlan: everything a run needs, resolved and checked before any simulation
// (include/dosim/run.h). Problems are collected, not thrown one by one, so that `dosim
// validate` and a failing `dosim run` show all of them at once.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "detectors/runner.h"
#include "dosim/detectors/detector.h"
#include "dosim/detectors/registry.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/run.h"
#include "run/detector_factories.h"
#include "run/rankers.h"
#include "scripting/script_host.h"

namespace dosim {
namespace {

// Appends an error's diagnostics to `problems`.
void collect(const Error& error, std::vector<Diagnostic>& problems) {
  problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
}

// A detector of a kind the program's own factory makes, for a token KIND[:key=value...]:
// the bench's metrics and `for:` (as a registry kind's bench default has), the token's
// parameters. Asked of the factory here, so that a kind it does not make either is said
// at `where` with the token, not at the scenario.
std::optional<DetectorSpec> factory_token_spec(const std::string& token,
                                               const DetectorFactory& factory,
                                               const std::string& where,
                                               std::vector<Diagnostic>& problems) {
  const std::string kind = token.substr(0, token.find(':'));
  const std::size_t before = problems.size();
  const DetectorToken parsed = parse_detector_token(token, where, {kind}, {}, problems);
  if (problems.size() > before) return std::nullopt;
  DetectorSpec spec;
  spec.name = token;
  spec.kind = kind;
  spec.metrics = {"latency_p95_s", "error_ratio"};
  spec.for_duration = 15 * kSecond;
  apply_detector_token(parsed, spec);
  try {
    if (factory(spec, 1) == nullptr) {
      problems.push_back({where, 0, 0,
                          "'" + kind +
                              "' is neither a detector kind nor one the program's "
                              "detector factory makes" +
                              did_you_mean(kind, detector_kinds())});
      return std::nullopt;
    }
  } catch (const Error& error) {
    for (const Diagnostic& d : error.diagnostics())
      problems.push_back({where, 0, 0, "'" + token + "': " + d.message});
    return std::nullopt;
  }
  return spec;
}

// One requested detector name: the scenario's own by name, the script's Lua one by name,
// else a registry kind's bench default with the token's parameters (its relative module and
// model paths below `folder` where one is given), else a kind of the program's `factory`.
// Problems are said at `where` (RunOptions::detectors_source).
std::vector<DetectorSpec> select_detectors(const std::vector<std::string>& tokens,
                                           const Scenario& scenario,
                                           const std::vector<DetectorSpec>& script_specs,
                                           const std::string& folder,
                                           const DetectorFactory& factory, const std::string& where,
                                           std::vector<Diagnostic>& problems) {
  const auto below_folder = [&folder](const std::string& path) {
    if (folder.empty() || path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(folder) / path).string();
  };
  // A scenario without `detectors:` runs the default set (runner.h): its names that are
  // no kind (errors-above-10pct, cpu-above-80pct) are the scenario's own too; `mad` stays
  // the kind with the bench's configuration.
  std::vector<DetectorSpec> scenario_specs = scenario.detectors;
  if (!scenario.detectors_given) {
    const std::vector<std::string> kinds = detector_kinds();
    for (DetectorSpec& d : DetectorRunner::default_specs())
      if (std::find(kinds.begin(), kinds.end(), d.name) == kinds.end())
        scenario_specs.push_back(std::move(d));
  }
  std::vector<std::string> own_names;
  for (const DetectorSpec& d : scenario_specs) own_names.push_back(d.name);
  for (const DetectorSpec& d : script_specs) own_names.push_back(d.name);
  std::vector<DetectorSpec> specs;
  for (const std::string& token : tokens) {
    const auto named = [&](const DetectorSpec& d) { return d.name == token; };
    if (auto own = std::find_if(scenario_specs.begin(), scenario_specs.end(), named);
        own != scenario_specs.end()) {
      specs.push_back(*own);
      continue;
    }
    if (auto lua = std::find_if(script_specs.begin(), script_specs.end(), named);
        lua != script_specs.end()) {
      specs.push_back(*lua);
      continue;
    }
    const std::string kind = token.substr(0, token.find(':'));
    std::vector<std::string> known = detector_kinds();
    if (std::find(own_names.begin(), own_names.end(), kind) != own_names.end()) {
      // "r:above=5" where r is the scenario's own detector (or the script's): its
      // configuration is there, a token's parameters are for a kind.
      const bool scripts = std::none_of(scenario_specs.begin(), scenario_specs.end(),
                                        [&](const DetectorSpec& d) { return d.name == kind; });
      problems.push_back({where, 0, 0,
                          "'" + token + "': '" + kind + "' is " +
                              (scripts ? "the script's detector (sim.detector)"
                                       : "a detector of " + scenario.file) +
                              ", which takes its parameters from there; parameters after ':' "
                              "are for a kind (such as mad:window=64)"});
      continue;
    }
    if (kind.find('=') != std::string::npos) {  // "mad:window=32,threshold=5"
      problems.push_back({where, 0, 0,
                          "'" + token +
                              "' is not a detector: a kind's parameters follow it "
                              "after ':', each after its own (mad:window=32:threshold=5), and ',' "
                              "separates detectors"});
      continue;
    }
    if (std::find(known.begin(), known.end(), kind) == known.end() && factory) {
      std::optional<DetectorSpec> spec = factory_token_spec(token, factory, where, problems);
      if (spec) {
        for (const DetectorSpec& other : specs)
          if (other.name == spec->name) problems.push_back({where, 0, 0, "'" + token + "' twice"});
        specs.push_back(std::move(*spec));
      }
      continue;
    }
    if (std::find(known.begin(), known.end(), kind) == known.end()) {
      known.insert(known.end(), own_names.begin(), own_names.end());
      problems.push_back({where, 0, 0,
                          "'" + kind + "' is neither a detector kind nor a detector of " +
                              scenario.file + (script_specs.empty() ? "" : " or of its script") +
                              did_you_mean(kind, known)});
      continue;
    }
    const std::size_t before = problems.size();
    const DetectorToken parsed = parse_detector_token(token, where, {}, {}, problems);
    if (problems.size() > before) continue;
    try {
      DetectorToken located = parsed;
      located.model = below_folder(parsed.model);
      located.module = below_folder(parsed.module);
      DetectorSpec spec = bench_detector_spec(located.kind, located.model, where);
      // Named as written, a module's folders included (its trace group is that path).
      spec.name = token;
      for (const DetectorSpec& other : specs)
        if (other.name == spec.name) problems.push_back({where, 0, 0, "'" + spec.name + "' twice"});
      apply_detector_token(located, spec);
      specs.push_back(std::move(spec));
    } catch (const Error& error) {
      collect(error, problems);
    }
  }
  return specs;
}

// The problems of making detector `spec`; one without a place in the scenario (a model file
// that does not load) is said at the detector that led to it.
void collect_at_detector(const Error& error, const DetectorSpec& spec, const std::string& file,
                         std::vector<Diagnostic>& problems) {
  for (const Diagnostic& d : error.diagnostics()) {
    if (d.line > 0 || spec.pos.line <= 0)
      problems.push_back(d);
    else
      problems.push_back(
          {file, spec.pos.line, spec.pos.column, "detector '" + spec.name + "': " + d.format()});
  }
}

// A detector already made and checked alone, standing in for it where the detectors are
// checked together. Never steps.
class CheckedDetector : public Detector {
 public:
  void step(std::span<const float>, std::span<float>) override {}
  double limit() const override { return 1.0; }
};

// The incident rules' problems (a detector that watches nothing, a stream_threshold key that
// names none of its streams): the detectors' series with a stand-in for each, so that the
// rules are checked whether or not the detectors' own parameters are right. The detectors'
// own problems (an unknown metric) are not said again.
void check_incident_rules(const Scenario& scenario, const std::vector<DetectorSpec>& specs,
                          std::vector<Diagnostic>& problems) {
  if (scenario.incident_rules.empty()) return;
  const DetectorFactory stand_in = [](const DetectorSpec&, std::size_t) {
    return std::unique_ptr<Detector>(std::make_unique<CheckedDetector>());
  };
  // The detectors whose series resolve (an unknown metric is the detector's own problem),
  // and the rules that watch one of them (an unknown detector is the loader's).
  Scenario rules = scenario;
  rules.incident_rules.clear();
  std::vector<DetectorSpec> resolved;
  for (const DetectorSpec& spec : specs) {
    try {
      DetectorRunner alone(rules, {spec}, stand_in);
      resolved.push_back(spec);
    } catch (const Error&) {
    }
  }
  for (const IncidentRuleSpec& rule : scenario.incident_rules)
    if (std::any_of(resolved.begin(), resolved.end(),
                    [&rule](const DetectorSpec& spec) { return spec.name == rule.detector; }))
      rules.incident_rules.push_back(rule);
  try {
    DetectorRunner check(rules, resolved, stand_in);
  } catch (const Error& error) {
    std::vector<Diagnostic> found;
    collect(error, found);
    for (Diagnostic& d : found)
      if (std::none_of(problems.begin(), problems.end(), [&d](const Diagnostic& p) {
            return p.line == d.line && p.column == d.column && p.message == d.message;
          }))
        problems.push_back(std::move(d));
  }
}

// Makes each detector alone (so that every bad one is reported), then checks the incident
// rules (which name detectors and their streams).
void check_detectors(const Scenario& scenario, const std::vector<DetectorSpec>& specs,
                     const DetectorFactory& factory, std::vector<Diagnostic>& problems) {
  Scenario alone = scenario;
  alone.incident_rules.clear();
  for (const DetectorSpec& spec : specs) {
    try {
      DetectorRunner check(alone, {spec}, factory);
    } catch (const Error& error) {
      collect_at_detector(error, spec, scenario.file, problems);
    }
  }
  check_incident_rules(scenario, specs, problems);
}

// Whether the scenario's own script (`script:`, when no --script replaces it) is a file
// that can be read: said at its `script:` when not.
bool check_scenario_script(const Scenario& scenario, const RunOptions& options,
                           const std::string& script_path, std::vector<Diagnostic>& problems) {
  std::error_code missing;
  if (!options.script_path.empty() || script_path.empty() ||
      std::filesystem::is_regular_file(script_path, missing))
    return true;
  const char* why = std::filesystem::is_directory(script_path, missing) ? "Is a directory"
                    : std::filesystem::exists(script_path, missing)     ? "not a regular file"
                                                                    : "No such file or directory";
  problems.push_back({scenario.file, scenario.script_pos.line, scenario.script_pos.column,
                      "cannot read the script '" + script_path + "': " + why});
  return false;
}

// The problems of a scenario that did not load (`draft`, draft_scenario_file) and those of
// its detectors' own parameters, which the loader does not know: each detector of a built-in
// kind is made for one column, so that a user sees its problems with the others at once. A
// kind the registry does not know is an error unless a front end's factory or a script may
// make it; python's (the user's code runs when it is made) waits for a scenario that loads.
// The root-cause rankers' names too (check_rca_names). In order of position.
std::vector<Diagnostic> draft_problems(const ScenarioDraft& draft, const RunOptions& options) {
  // The loader's warnings too: a user fixing the errors should see every problem at once.
  std::vector<Diagnostic> problems = draft.errors;
  problems.insert(problems.end(), draft.scenario.warnings.begin(), draft.scenario.warnings.end());
  const std::vector<std::string> kinds = detector_kinds();
  const bool others_may_make =
      options.detector_factory || !options.script_path.empty() || !draft.scenario.script.empty();
  for (const DetectorSpec& spec : draft.scenario.detectors) {
    const bool known = std::find(kinds.begin(), kinds.end(), spec.kind) != kinds.end();
    // A missing kind is the loader's problem already, not an unknown kind too.
    if (spec.kind.empty() || spec.kind == "python" || (!known && others_may_make)) continue;
    // One column of each of its metrics (kinds that pair metrics, regression's rps and
    // latency, or read them as a model's inputs, lstm's, need them all).
    std::vector<std::string> names;
    for (const std::string& metric : spec.metrics) names.push_back("draft:" + metric);
    if (names.empty()) names.push_back("draft");
    try {
      const std::size_t series = names.size();
      make_detector(spec, series, draft.scenario.file, draft.scenario.tick, std::move(names));
    } catch (const Error& error) {
      std::vector<Diagnostic> found;
      collect_at_detector(error, spec, draft.scenario.file, found);
      // A parameter whose value the loader could not read is reported there, not again as
      // missing.
      std::erase_if(found, [&spec](const Diagnostic& d) {
        return std::any_of(
            spec.unread_params.begin(), spec.unread_params.end(), [&d](const std::string& param) {
              return d.message.find("needs the parameter '" + param + "'") != std::string::npos;
            });
      });
      problems.insert(problems.end(), found.begin(), found.end());
    }
  }
  // The rules as a run would check them (with --detectors, the rules a run keeps are unknown).
  if (!options.detectors) check_incident_rules(draft.scenario, draft.scenario.detectors, problems);
  check_rca_names(draft.scenario, options, problems);
  // The script's syntax: what it would say once the scenario loads, said now.
  const std::string script = options.script_path.empty()
                                 ? scenario_script_path(draft.scenario.file, draft.scenario.script)
                                 : options.script_path;
  std::error_code missing;
  if (check_scenario_script(draft.scenario, options, script, problems) && !script.empty() &&
      std::filesystem::is_regular_file(script, missing)) {
    try {
      LuaSandbox(0, SandboxLimits{}).load_file(script);
    } catch (const Error& error) {
      collect(error, problems);
    }
  }
  return by_position(std::move(problems), draft.scenario.file);
}

}  // namespace

std::string scenario_script_path(const std::string& scenario_path, const std::string& script) {
  if (script.empty()) return "";
  const std::filesystem::path path(script);
  if (path.is_absolute()) return path.string();
  return (std::filesystem::path(scenario_path).parent_path() / path).string();
}

namespace {

// Resolves a run of `scenario`: its script and detectors; every problem goes to `problems`.
// The request level simulates requests one by one: a scenario whose traffic could ask for more
// than it can hold is refused before it starts (docs/world-model.md, Request level).
// `mode_given`: the run's options chose the request level (--mode requests), not the file.
void check_request_level(const Scenario& scenario, bool mode_given,
                         std::vector<Diagnostic>& problems) {
  if (scenario.mode != WorldMode::kRequests) return;
  const std::string fluid = mode_given ? "run it in the fluid mode" : "run it with mode: fluid";
  // Locust users each hold a loop of their own: at most kMaxRequestUsers at once.
  double users = 0;
  for (const TrafficSpec& source : scenario.traffic) {
    if (!source.locust) continue;
    double peak = source.locust->users;  // a stage table's largest stage in its place
    for (const LocustStage& stage : source.locust->stages) peak = std::max(peak, stage.users);
    for (const SurgeSpec& surge : source.locust->surges) peak += surge.users;
    if (source.daily) peak *= 1 + source.daily->amplitude;
    if (source.weekly) peak *= std::max(1.0, source.weekly->weekend_factor);
    users += peak;
    if (users > kMaxRequestUsers) {
      char count[64];
      std::snprintf(count, sizeof count, "%.3g", users);
      problems.push_back({scenario.file, source.pos.line, source.pos.column,
                          std::string("at request level this scenario's Locust sources may "
                                      "run up to ") +
                              count + " users at once (up to traffic '" + source.name +
                              "'): the request level runs at most 1e6; " + fluid +
                              ", or with fewer users",
                          false});
      break;
    }
  }
  int worst = -1;
  const double per_second = scenario.request_hop_bound(&worst);
  const double per_tick = per_second * to_seconds(scenario.tick);
  if (per_second <= kMaxRequestHopsPerSecond && per_tick <= kMaxRequestHopsPerTick) return;
  const SourcePos pos = worst >= 0 ? scenario.traffic[worst].pos : SourcePos{};
  char bound[64];
  std::snprintf(bound, sizeof bound, "%.3g", per_second);
  problems.push_back(
      {scenario.file, pos.line, pos.column,
       std::string("at request level this scenario may serve up to ") + bound +
           " requests per simulated second (its traffic at its highest, every call retried" +
           (worst >= 0 ? "; most from traffic '" + scenario.traffic[worst].name + "'" : "") +
           "): the request level simulates at most 1e6 per second and 1e7 per tick; " + fluid +
           ", or with less traffic",
       false});
}

void resolve(Scenario& scenario, const RunOptions& options, std::vector<DetectorSpec>& detectors,
             std::string& script_path, std::vector<Diagnostic>& problems) {
  // The options a program sets, in the command line's ranges (a program has no CLI to check).
  if (options.seed && *options.seed > 1'000'000'000'000'000'000ULL)
    problems.push_back(
        {"seed", 0, 0,
         "the seed must be a whole number in [0, 1e18], got " + std::to_string(*options.seed)});
  if (options.threads < 1 || options.threads > 256)
    problems.push_back(
        {"threads", 0, 0, "threads must be from 1 to 256, got " + std::to_string(options.threads)});
  // The Lua limits in the command line's ranges (0 and negative ran with no limit or none
  // at all; a cap of 0 MiB said "cannot create a Lua state").
  if (options.lua_instructions < 1000 || options.lua_instructions > 1'000'000'000'000LL)
    problems.push_back({"lua_instructions", 0, 0,
                        "lua_instructions must be from 1000 to 1e12, got " +
                            std::to_string(options.lua_instructions)});
  if (options.lua_memory_mib < 1 || options.lua_memory_mib > 1'048'576)
    problems.push_back({"lua_memory_mib", 0, 0,
                        "lua_memory_mib must be from 1 to 1048576, got " +
                            std::to_string(options.lua_memory_mib)});
  check_request_level(scenario, options.mode.has_value(), problems);
  // The rankers' names, and the scenario's Lua and Python rankers loaded once (each Run
  // makes its own).
  make_run_rankers(scenario, options, options.seed.value_or(scenario.seed), problems);
  if (!options.incident_rules) scenario.incident_rules.clear();
  script_path = options.script_path.empty() ? scenario_script_path(scenario.file, scenario.script)
                                            : options.script_path;
  // The scenario's own script, said at its `script:` when it is not there.
  if (!check_scenario_script(scenario, options, script_path, problems)) script_path.clear();
  // The script's main chunk runs in a probe of the world: it must compile and start, and it
  // may define Lua detectors the run needs.
  std::unique_ptr<Simulation> probe;
  std::unique_ptr<ScriptHost> script;
  std::vector<DetectorSpec> script_specs;
  try {
    probe = std::make_unique<Simulation>(scenario, options.seed.value_or(scenario.seed));
    probe->set_playbook_check(playbook_ranker_check(scenario, options));
    if (!script_path.empty()) {
      ScriptOptions script_options;
      script_options.path = script_path;
      script_options.limits.instruction_budget = options.lua_instructions;
      script_options.limits.memory_limit = static_cast<std::size_t>(options.lua_memory_mib) << 20;
      script_options.strict = options.strict;
      script = std::make_unique<ScriptHost>(*probe, std::move(script_options),
                                            options.seed.value_or(scenario.seed));
      script->start();
      script_specs = script->detector_specs();
      // What its calls warn of, with the scenario's warnings (the run logs them again).
      scenario.warnings.insert(scenario.warnings.end(), script->warnings().begin(),
                               script->warnings().end());
    }
  } catch (const Error& error) {
    // A main chunk that fails never runs again: the lines it logged before it failed go
    // where the run's would have gone, for the user who logged them to find the error.
    if (script && options.on_script_log)
      for (const ScriptLogLine& line : script->log()) options.on_script_log(line.time, line.text);
    collect(error, problems);
    script.reset();
  }
  if (options.detectors) {
    detectors =
        select_detectors(*options.detectors, scenario, script_specs, options.detector_folder,
                         options.detector_factory, options.detectors_source, problems);
    // The incident rules that watch a detector no longer run go with it.
    std::erase_if(scenario.incident_rules, [&](const IncidentRuleSpec& rule) {
      return std::none_of(detectors.begin(), detectors.end(),
                          [&](const DetectorSpec& d) { return d.name == rule.detector; });
    });
  } else {
    detectors = scenario.detectors_given ? scenario.detectors : DetectorRunner::default_specs();
    detectors.insert(detectors.end(), script_specs.begin(), script_specs.end());
  }
  const std::size_t before = problems.size();
  check_detectors(scenario, detectors,
                  either_factory(options.detector_factory,
                                 script ? script->detector_factory() : DetectorFactory{}),
                  problems);
  // A detector a token made has no place in the scenario: its problems are the token's
  // ("--detectors: detector 'mad:window=2': ...", not the scenario file's).
  if (options.detectors)
    for (std::size_t i = before; i < problems.size(); ++i)
      if (problems[i].line <= 0 && problems[i].file == scenario.file)
        problems[i].file = options.detectors_source;
}

}  // namespace

RunPlan RunPlan::from_scenario(Scenario scenario, RunOptions options) {
  std::vector<Diagnostic> problems;
  if (options.mode) set_world_mode(scenario, *options.mode);
  if (options.strict)
    for (Diagnostic warning : scenario.warnings) {
      warning.warning = false;  // --strict: a warning is an error
      problems.push_back(std::move(warning));
    }
  RunPlan plan;
  plan.seed_ = options.seed.value_or(scenario.seed);
  resolve(scenario, options, plan.detectors_, plan.script_path_, problems);
  if (!problems.empty()) {
    // The warnings too, as check() lists them: nothing is lost when it fails.
    if (!options.strict)
      problems.insert(problems.begin(), scenario.warnings.begin(), scenario.warnings.end());
    throw InputError(by_position(std::move(problems), scenario.file));
  }
  plan.scenario_ = std::make_shared<const Scenario>(std::move(scenario));
  plan.options_ = std::move(options);
  return plan;
}

RunPlan RunPlan::load(const std::string& scenario_path, RunOptions options) {
  ScenarioDraft draft = draft_scenario_file(scenario_path);
  if (!draft.errors.empty()) throw InputError(draft_problems(draft, options));
  return from_scenario(std::move(draft.scenario), std::move(options));
}

std::vector<Diagnostic> RunPlan::check(const std::string& scenario_path,
                                       const RunOptions& options) {
  Scenario scenario;
  try {
    ScenarioDraft draft = draft_scenario_file(scenario_path);
    // The rest needs a scenario that loads.
    if (!draft.errors.empty()) return draft_problems(draft, options);
    scenario = std::move(draft.scenario);
  } catch (const Error& error) {
    return error.diagnostics();
  }
  if (options.mode) set_world_mode(scenario, *options.mode);
  std::vector<Diagnostic> problems = scenario.warnings;
  const std::size_t loader_warnings = scenario.warnings.size();
  std::vector<DetectorSpec> detectors;
  std::string script_path;
  resolve(scenario, options, detectors, script_path, problems);
  // The script's main chunk's warnings, which resolve() adds to the scenario's.
  problems.insert(problems.end(), scenario.warnings.begin() + loader_warnings,
                  scenario.warnings.end());
  // Each check above adds its own problems: in file order, as the loader's are.
  return by_position(std::move(problems), scenario.file);
}

RunPlan RunPlan::with_seed(std::uint64_t seed) const {
  RunPlan plan = *this;
  plan.seed_ = seed;
  plan.options_.seed = seed;
  return plan;
}

std::vector<std::pair<std::string, std::string>> RunPlan::inputs() const {
  const Scenario& scenario = *scenario_;
  std::vector<std::pair<std::string, std::string>> inputs = {{"the scenario", scenario.file}};
  if (!script_path_.empty()) inputs.emplace_back("the script", script_path_);
  for (const ReplaySpec& replay : scenario.replay)
    inputs.emplace_back("a replay file", replay.file);
  for (const TrafficSpec& source : scenario.traffic)
    if (source.recorded) inputs.emplace_back("a recorded rate", source.recorded->file);
  for (const std::string& manifest : scenario.manifest_files)
    inputs.emplace_back("a manifest", manifest);
  if (!scenario.alertmanager.file.empty())
    inputs.emplace_back("the Alertmanager configuration", scenario.alertmanager.file);
  for (const RcaRankerSpec& ranker : scenario.rca.custom)
    inputs.emplace_back("a root-cause ranker", ranker.file);
  for (const DetectorSpec& spec : detectors_) {
    if (!spec.model.empty()) inputs.emplace_back("an lstm model", spec.model);
    if (!spec.module.empty()) inputs.emplace_back("a Python detector", spec.module);
  }
  return inputs;
}

}  // namespace dosim
