#include "sweep_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "dosim/engine/scenario_loader.h"
#include "dosim/version.h"
#include "engine/byte_size.h"
#include "engine/yaml_reader.h"
#include "sweep_paths.h"
#include "sweep_table.h"
#include "util/input_file.h"

namespace dosim::cli {
namespace {

constexpr std::int64_t kMaxSeedCount = 100000;
constexpr double kMaxSeed = 1e18;

// A value's number, where it is one: the one parser of numbers in values, so that the header
// writes every value that counts as a number (a subnormal one too) and no other ("+-5").
std::optional<double> number_of(const std::string& text) {
  std::string_view view = text;
  if (view.size() > 1 && view[0] == '+' && view[1] != '-' && view[1] != '+') view.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (view.empty() || ec != std::errc() || end != view.data() + view.size() ||
      !std::isfinite(value))
    return std::nullopt;
  return value;
}

bool is_quoted(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "!"; }

// The position of offset `offset` of a path written at `node` (on one line).
SourcePos path_pos(const YAML::Node& node, std::size_t offset) {
  SourcePos pos = pos_of(node);
  if (pos.line > 0) pos.column += static_cast<int>(offset) + (is_quoted(node) ? 1 : 0);
  return pos;
}

std::string resolve_beside(const std::string& sweep_file, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(sweep_file).parent_path() / p).string();
}

// A scalar value of the sweep file, as a parameter's value.
std::optional<SweepValue> value_of(const YAML::Node& node, const std::string& label,
                                   Diagnostics& diags) {
  if (!node.IsScalar()) {
    diags.error(pos_of(node),
                "expected a value (a number or a text) in " + label + ", got " + describe(node));
    return std::nullopt;
  }
  SweepValue value;
  value.display = node.Scalar();
  value.text = yaml_scalar(value.display, is_quoted(node));
  const std::optional<double> number = number_of(value.display);
  value.numeric = !is_quoted(node) && number.has_value();
  value.number = number.value_or(0);
  value.pos = pos_of(node);
  return value;
}

// Reads the `path:` of a parameter; false when it is missing or not a path.
bool read_path(MapReader& reader, SweepParameter& parameter, Diagnostics& diags) {
  const std::optional<std::string> path = reader.text("path", Need::kRequired);
  if (!path) return false;
  parameter.path = *path;
  const YAML::Node node = *reader.value("path");
  parameter.pos = pos_of(node);
  if (is_fixed_column(*path)) {
    diags.error(parameter.pos, "'" + *path + "' is a column of the results" +
                                   (*path == "seed"   ? ": sweep seeds with 'seeds:'"
                                    : *path == "mode" ? ": sweep modes with 'modes:'"
                                                      : std::string()));
    return false;
  }
  std::vector<PathStep> steps;
  PathProblem problem;
  if (!parse_path(*path, steps, problem)) {
    diags.error(path_pos(node, problem.offset),
                "'" + *path + "' is not a path: " + problem.message);
    return false;
  }
  return true;
}

// splitmix64: a random sample's uniform numbers, from (seed, sample, range) alone.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double uniform(std::uint64_t seed, std::uint64_t sample, std::uint64_t range) {
  const std::uint64_t bits = mix(mix(mix(seed) ^ sample) ^ (range * 0x632be59bd9b4e019ULL));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
}

SweepValue sample_value(const SweepParameter& range, double u) {
  double x = range.log
                 ? std::exp(std::log(range.min) + u * (std::log(range.max) - std::log(range.min)))
                 : range.min + u * (range.max - range.min);
  char rounded[32];  // six significant digits: the value a reader of the table sees is the one run
  std::snprintf(rounded, sizeof rounded, "%.6g", x);
  x = std::clamp(std::strtod(rounded, nullptr), range.min, range.max);
  if (range.integer) x = std::clamp(std::round(x), std::ceil(range.min), std::floor(range.max));
  SweepValue value;
  value.display = format_number(x) + range.unit;
  value.text = yaml_scalar(value.display, false);
  value.numeric = range.unit.empty();
  value.number = x;
  return value;
}

// FNV-1a, 64 bits.
class Hash {
 public:
  void add(const std::string& text) {
    for (const unsigned char c : text) state_ = (state_ ^ c) * 0x100000001b3ULL;
    state_ = (state_ ^ 0xff) * 0x100000001b3ULL;  // a separator: ("ab", "c") != ("a", "bc")
  }
  // A file's bytes, read in pieces (a model or a replayed CSV may be large), then whether it
  // read to its end (a file that cannot be read fails its runs anyway).
  void add_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char buffer[1 << 16];
    while (in) {
      in.read(buffer, sizeof buffer);
      for (std::streamsize i = 0; i < in.gcount(); ++i)
        state_ = (state_ ^ static_cast<unsigned char>(buffer[i])) * 0x100000001b3ULL;
    }
    add(in.eof() && !in.bad() ? "read" : "unreadable");
  }
  std::string hex() const {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(state_));
    return out;
  }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

// Where in the sweep file a problem of its detectors belongs: a --detectors problem, or a
// detector's own (its parameters: "detector 'mad:window=2': ...", said without a place), at
// the token it names, else at `detectors:`. False for any other problem.
bool place_at_detector(const SweepSpec& spec, Diagnostic& d) {
  const bool own = d.line <= 0 && d.message.find("detector '") != std::string::npos;
  if (d.file != "--detectors" && !own) return false;
  SourcePos pos = spec.detectors_pos;
  bool named = false;
  for (std::size_t i = 0; i < spec.detectors.size(); ++i)
    if (d.message.find("'" + spec.detectors[i] + "'") != std::string::npos) {
      pos = spec.detector_pos[i];
      named = true;
    }
  if (own && !named) return false;
  d.file = spec.file;
  d.line = pos.line;
  d.column = pos.column;
  return true;
}

}  // namespace

std::uint64_t SweepPlan::seed_of(std::size_t run) const {
  const std::size_t cell = run / seeds_per_cell, k = run % seeds_per_cell;
  if (!spec.seeds.empty()) return spec.seeds[k];
  return cells[cell].base_seed + k;
}

const SweepValue& SweepPlan::value(std::size_t cell, std::size_t p) const {
  const SweepParameter& parameter = spec.parameters[p];
  if (!parameter.random) return parameter.values[cells[cell].values[p]];
  return cells[cell].sampled[cells[cell].values[p]];
}

std::string SweepPlan::cell_text(std::size_t cell) const {
  const std::size_t s = cells[cell].scenario;
  std::vector<std::pair<TextEdit, std::string>> cell_edits;
  for (std::size_t p = 0; p < spec.parameters.size(); ++p)
    cell_edits.emplace_back(edits[s][p], value(cell, p).text);
  // A mode the sweep sets (`modes:`) is written in too: the text runs as the cell does.
  if (!spec.modes.empty()) {
    std::vector<PathStep> steps;
    PathProblem problem;
    TextEdit edit;
    if (parse_path("mode", steps, problem) &&
        locate_path(YAML::Load(scenario_texts[s]), scenario_texts[s], steps, edit, problem))
      cell_edits.emplace_back(edit, cells[cell].mode);
  }
  return EditedText(scenario_texts[s], std::move(cell_edits)).text();
}

RunPlan SweepPlan::plan_of(std::size_t cell) const {
  const std::size_t s = cells[cell].scenario;
  std::vector<std::pair<TextEdit, std::string>> cell_edits;
  for (std::size_t p = 0; p < spec.parameters.size(); ++p)
    cell_edits.emplace_back(edits[s][p], value(cell, p).text);
  Scenario scenario = parse_scenario(EditedText(scenario_texts[s], std::move(cell_edits)).text(),
                                     spec.scenario_paths[s]);
  if (spec.script_path.empty()) scenario.script.clear();  // as dosim bench
  RunOptions options = run_options;
  if (!spec.modes.empty())
    options.mode = cells[cell].mode == "requests" ? WorldMode::kRequests : WorldMode::kFluid;
  return RunPlan::from_scenario(std::move(scenario), std::move(options));
}

SweepSpec load_sweep_file(const std::string& path) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) throw InputError(path, "cannot read file: " + reason);
  YAML::Node root;
  try {
    root = YAML::Load(*text);
    if (std::optional<Diagnostic> aliases = alias_expansion_problem(*text, path))
      throw InputError({std::move(*aliases)});
  } catch (const YAML::Exception& e) {
    const bool has_mark = !e.mark.is_null() && e.mark.line >= 0;
    throw InputError({Diagnostic{path, has_mark ? e.mark.line + 1 : 0,
                                 has_mark ? e.mark.column + 1 : 0, "YAML syntax error: " + e.msg}});
  }
  if (!root.IsDefined() || root.IsNull()) throw InputError(path, "file is empty");
  SweepSpec spec;
  spec.file = path;
  Diagnostics diags(path);
  try {
    MapReader top(root, "sweep",
                  {"name", "scenario", "scenarios", "parameters", "random", "detectors", "seeds",
                   "modes", "script"},
                  diags);
    if (!top.is_map()) diags.throw_if_any();
    spec.name = top.text("name").value_or(std::filesystem::path(path).stem().string());

    // Scenarios.
    if (top.has("scenario") == top.has("scenarios")) {
      diags.error(top.has("scenario") ? top.key_pos("scenarios") : SourcePos{1, 1},
                  "a sweep names its scenario with either 'scenario: FILE' or 'scenarios: "
                  "[FILE, ...]'");
    } else if (top.has("scenario")) {
      if (auto scenario = top.text("scenario")) {
        spec.scenarios.push_back(*scenario);
        spec.scenario_pos.push_back(top.value_pos("scenario"));
      }
    } else {
      for (const YAML::Node& item : top.list("scenarios")) {
        if (auto scenario = read_text(item, pos_of(item), "'scenarios'", diags)) {
          spec.scenarios.push_back(*scenario);
          spec.scenario_pos.push_back(pos_of(item));
        }
      }
      if (spec.scenarios.empty() && top.has("scenarios"))
        diags.error(top.value_pos("scenarios"), "'scenarios' lists no scenario");
    }
    for (std::size_t s = 0; s < spec.scenarios.size(); ++s) {
      spec.scenario_paths.push_back(resolve_beside(path, spec.scenarios[s]));
      // A scenario twice would run the same cells twice (a seed or a mode twice is refused).
      const auto same = [&](const std::string& a, const std::string& b) {
        std::error_code error;
        const auto x = std::filesystem::weakly_canonical(a, error);
        const auto y = std::filesystem::weakly_canonical(b, error);
        return x.lexically_normal() == y.lexically_normal();
      };
      for (std::size_t earlier = 0; earlier < s; ++earlier)
        if (same(spec.scenario_paths[earlier], spec.scenario_paths[s])) {
          diags.error(spec.scenario_pos[s],
                      "scenario '" + spec.scenarios[s] + "' is listed twice (first at line " +
                          std::to_string(spec.scenario_pos[earlier].line) + ")");
          break;
        }
    }

    // The grid.
    std::map<std::string, int> path_lines;  // each path once
    auto check_unique = [&](const SweepParameter& parameter) {
      const auto [it, added] = path_lines.emplace(parameter.path, parameter.pos.line);
      if (!added)
        diags.error(parameter.pos, "'" + parameter.path + "' is swept twice (first at line " +
                                       std::to_string(it->second) + ")");
    };
    for (const YAML::Node& item : top.list("parameters")) {
      MapReader reader(item, "parameter", {"path", "values"}, diags);
      if (!reader.is_map()) continue;
      SweepParameter parameter;
      const bool path_ok = read_path(reader, parameter, diags);
      for (const YAML::Node& node : reader.list("values", Need::kRequired)) {
        auto value = value_of(node, "'values'", diags);
        if (!value) continue;
        // Two cells of one value would be averaged together by whoever reads the table (100
        // and 1e2 show alike): refused, as a seed or a mode listed twice is.
        const auto same = std::find_if(parameter.values.begin(), parameter.values.end(),
                                       [&](const SweepValue& other) {
                                         return other.numeric == value->numeric &&
                                                (value->numeric ? other.number == value->number
                                                                : other.display == value->display);
                                       });
        if (same != parameter.values.end()) {
          diags.error(value->pos, "value " + value->display + " is listed twice (first at " +
                                      std::to_string(same->pos.line) + ":" +
                                      std::to_string(same->pos.column) + ")");
          continue;
        }
        parameter.values.push_back(*value);
      }
      if (reader.has("values") && reader.value("values")->IsSequence() &&
          reader.value("values")->size() == 0)  // an empty list, not a list of bad values
        diags.error(reader.value_pos("values"), "'values' lists no value");
      if (!path_ok) continue;
      check_unique(parameter);
      // Without a value (said above) it would make no cell, and no cell's values would be
      // checked: the other parameters are swept without it, so that their problems show.
      if (parameter.values.empty()) continue;
      spec.parameters.push_back(std::move(parameter));
    }

    // Random samples.
    if (auto random = top.value("random")) {
      MapReader reader(*random, "random", {"samples", "seed", "ranges"}, diags);
      if (reader.is_map()) {
        spec.samples = static_cast<int>(
            reader.integer("samples", Range::closed(1, 1e6), Need::kRequired).value_or(0));
        spec.samples_pos = reader.value_pos("samples");
        spec.random_seed = static_cast<std::uint64_t>(
            reader.integer("seed", Range::closed(0, kMaxSeed)).value_or(1));
        const std::vector<YAML::Node> ranges = reader.list("ranges", Need::kRequired);
        if (ranges.empty() && reader.has("ranges"))
          diags.error(reader.value_pos("ranges"), "'ranges' lists no range");
        for (const YAML::Node& item : ranges) {
          MapReader range(item, "range", {"path", "min", "max", "log", "integer", "unit"}, diags);
          if (!range.is_map()) continue;
          SweepParameter parameter;
          parameter.random = true;
          const bool path_ok = read_path(range, parameter, diags);
          const auto min = range.number("min", Range::any(), Need::kRequired);
          const auto max = range.number("max", Range::any(), Need::kRequired);
          parameter.log = range.boolean("log").value_or(false);
          parameter.integer = range.boolean("integer").value_or(false);
          parameter.unit = range.text("unit").value_or("");
          if (!min || !max || !path_ok) continue;
          parameter.min = *min;
          parameter.max = *max;
          // A range with a problem draws no sample: its samples would only repeat it (a log
          // range from 0 drew '-nan', a unit not of durations made '1.02901parsecs').
          bool range_ok = true;
          const auto refuse = [&](const char* key, const std::string& message) {
            diags.error(range.value_pos(key), message);
            range_ok = false;
          };
          if (*min > *max)
            refuse("max", "'max' (" + format_number(*max) + ") must be at least 'min' (" +
                              format_number(*min) + ")");
          if (parameter.log && *min <= 0) refuse("min", "a range with 'log: true' needs 'min' > 0");
          if (parameter.integer && std::ceil(*min) > std::floor(*max))
            refuse("max", "no whole number lies in [min, max]");
          const std::string one = "1" + parameter.unit;
          if (!parameter.unit.empty() &&
              (yaml_scalar(one, false) != one || (!parse_duration(one) && !parse_byte_size(one))))
            refuse("unit",
                   "'unit' must be a duration's (ms, s, m, ...) or a size's (Mi, GB, ...), got '" +
                       parameter.unit + "'");
          check_unique(parameter);
          if (range_ok) spec.parameters.push_back(std::move(parameter));
        }
      }
    }

    // Detectors, seeds, modes, script.
    if (auto detectors = top.value("detectors", Need::kRequired)) {
      spec.detectors_pos = top.value_pos("detectors");
      std::vector<YAML::Node> items;
      if (detectors->IsSequence())
        for (const YAML::Node& item : *detectors) items.push_back(item);
      else
        items.push_back(*detectors);
      for (const YAML::Node& item : items) {
        const std::optional<std::string> token =
            read_text(item, pos_of(item), "'detectors'", diags);
        if (!token) continue;
        std::size_t from = 0;        // "mad,threshold" as --detectors takes it
        std::set<std::string> said;  // each problem once per item ("mad,mad,mad")
        // Each token's place: its column in a one-line scalar (after a quote), else the item's.
        const SourcePos item_pos = pos_of(item);
        const bool quoted = item.Tag() == "!";
        const bool one_line = token->find('\n') == std::string::npos;
        SourcePos at = item_pos;
        auto problem = [&](const std::string& message) {
          if (said.insert(message).second) diags.error(at, message);
        };
        while (true) {
          const std::size_t comma = token->find(',', from);
          std::string one = token->substr(from, comma == std::string::npos ? comma : comma - from);
          // "mad, ewma" is two detectors, as [mad, ewma] is.
          const std::size_t first = one.find_first_not_of(" \t");
          const std::size_t lead = first == std::string::npos ? 0 : first;
          one = first == std::string::npos
                    ? ""
                    : one.substr(first, one.find_last_not_of(" \t") + 1 - first);
          at = item_pos;
          if (one_line && item_pos.line > 0)
            at.column = item_pos.column + static_cast<int>((quoted ? 1 : 0) + from + lead);
          if (one.empty() || one == "null") {
            problem(one.empty() ? "an empty detector name"
                                : "'null' is always in the results: leave it out");
          } else if (std::find(spec.detectors.begin(), spec.detectors.end(), one) !=
                     spec.detectors.end()) {
            problem("detector '" + one + "' is listed twice");
          } else {
            spec.detectors.push_back(one);
            spec.detector_pos.push_back(at);
          }
          if (comma == std::string::npos) break;
          from = comma + 1;
        }
      }
      // An empty list, not a list of bad names (each said above).
      if (items.empty() || (spec.detectors.empty() && diags.empty()))
        diags.error(spec.detectors_pos, "'detectors' lists no detector");
    }
    if (auto seeds = top.value("seeds")) {
      spec.seeds_pos = top.value_pos("seeds");
      if (seeds->IsSequence()) {
        for (const YAML::Node& item : *seeds) {
          const auto seed =
              read_integer(item, pos_of(item), "'seeds'", Range::closed(0, kMaxSeed), diags);
          if (!seed) continue;
          if (std::find(spec.seeds.begin(), spec.seeds.end(), *seed) != spec.seeds.end())
            diags.error(pos_of(item), "seed " + std::to_string(*seed) + " is listed twice");
          spec.seeds.push_back(static_cast<std::uint64_t>(*seed));
        }
        // An empty list, not one whose seeds were all said wrong already.
        if (seeds->size() == 0) diags.error(top.value_pos("seeds"), "'seeds' lists no seed");
        if (spec.seeds.size() > static_cast<std::size_t>(kMaxSeedCount))
          diags.error(top.value_pos("seeds"), "at most 100000 seeds");
        spec.seed_count = static_cast<int>(spec.seeds.size());
      } else {
        spec.seed_count =
            static_cast<int>(top.integer("seeds", Range::closed(1, kMaxSeedCount)).value_or(1));
      }
    }
    if (top.has("modes")) spec.modes_pos = top.value_pos("modes");
    if (top.has("modes") && top.value("modes")->IsSequence() && top.value("modes")->size() == 0)
      diags.error(top.value_pos("modes"),
                  "'modes' lists no mode: fluid, requests or both (or leave it out: the "
                  "scenario's own)");
    for (const YAML::Node& item : top.list("modes")) {
      const std::optional<std::string> mode = read_text(item, pos_of(item), "'modes'", diags);
      if (!mode) continue;
      if (*mode != "fluid" && *mode != "requests")
        diags.error(pos_of(item), "unknown mode '" + *mode + "': fluid or requests" +
                                      did_you_mean(*mode, {"fluid", "requests"}));
      else if (std::find(spec.modes.begin(), spec.modes.end(), *mode) != spec.modes.end())
        diags.error(pos_of(item), "mode '" + *mode + "' is listed twice");
      else
        spec.modes.push_back(*mode);
    }
    spec.script = top.text("script").value_or("");
    if (!spec.script.empty()) {
      spec.script_path = resolve_beside(path, spec.script);
      spec.script_pos = top.value_pos("script");
    }
  } catch (const YAML::Exception& e) {
    throw InputError(path, std::string("cannot read the YAML: ") + e.what());
  }
  // Without a scenario there is no cell to check: the file's problems alone.
  if (spec.scenarios.empty()) diags.throw_if_any();
  spec.problems = diags.errors();
  return spec;
}

namespace {

// The name of the scenario's detector that a path into `detectors[...]` changes, where the
// sweep does not run it (its tokens name kinds, or the scenario's detectors by name): its
// values would change nothing. "" otherwise.
std::string detector_not_run(const YAML::Node& root, const std::vector<PathStep>& steps,
                             const std::vector<std::string>& tokens) {
  if (steps.empty() || steps[0].key != "detectors" || steps[0].select == PathStep::Select::kNone)
    return "";
  const YAML::Node list = root["detectors"];
  if (!list.IsSequence()) return "";
  YAML::Node entry;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    bool match = steps[0].select == PathStep::Select::kIndex ? i == steps[0].index : item.IsMap();
    if (steps[0].select == PathStep::Select::kMatch)
      for (const auto& [field, value] : steps[0].match)
        match = match && item[field].IsScalar() && item[field].Scalar() == value;
    if (match) {
      entry = item;
      break;
    }
  }
  if (!entry.IsMap() || !entry["name"].IsScalar()) return "";
  const std::string name = entry["name"].Scalar();
  for (const std::string& token : tokens)
    if (token.substr(0, token.find(':')) == name) return "";
  return name;
}

}  // namespace

SweepPlan plan_sweep(SweepSpec spec) {
  SweepPlan plan;
  plan.seeds_per_cell = spec.seed_count;
  std::vector<Diagnostic> problems = std::move(spec.problems);
  std::set<std::string> seen;  // each problem once, however many cells share it
  // Problems of each random range's samples: the first is said, the rest counted (5,000
  // samples out of range were 5,000 lines).
  std::map<int, std::pair<std::string, std::set<std::string>>> sample_problems;
  std::map<int, std::string> sample_warned;  // the sample whose warnings are said
  auto report = [&](Diagnostic d) {
    if (seen.insert(d.format()).second)
      (d.warning ? plan.warnings : problems).push_back(std::move(d));
  };
  const std::size_t scenario_count = spec.scenarios.size();
  const std::size_t parameter_count = spec.parameters.size();
  // A script that cannot be read, at the sweep file's line (each run would say it at none).
  const std::string script_problem =
      spec.script_path.empty() ? "" : input_file_problem(spec.script_path);
  if (!script_problem.empty())
    report({spec.file, spec.script_pos.line, spec.script_pos.column,
            "cannot read the script '" + spec.script_path + "': " + script_problem});

  // Each scenario's text and where each path writes in it.
  std::vector<std::string> texts(scenario_count);
  std::vector<std::vector<TextEdit>> edits(scenario_count, std::vector<TextEdit>(parameter_count));
  // Whether each scenario loads, and where each path is found in it: a sweep with a path that
  // addresses nothing still loads its cells without that path, so that every problem is
  // reported at once.
  std::vector<bool> loads(scenario_count, false);
  std::vector<std::vector<bool>> located(scenario_count, std::vector<bool>(parameter_count, false));
  for (std::size_t s = 0; s < scenario_count; ++s) {
    const std::string& file = spec.scenario_paths[s];
    std::string reason;
    const std::optional<std::string> text = read_input_file(file, kMaxScenarioBytes, reason);
    if (!text) {
      report({spec.file, spec.scenario_pos[s].line, spec.scenario_pos[s].column,
              "cannot read scenario " + file + ": " + reason});
      continue;
    }
    texts[s] = *text;
    try {
      parse_scenario(texts[s], file);  // the scenario's own problems, as they are
      loads[s] = true;
    } catch (const Error& error) {
      for (const Diagnostic& d : error.diagnostics()) report(d);
    }
    // Its paths are located whether or not it loads (its problems hid theirs), where its
    // YAML reads.
    YAML::Node root;
    try {
      root = YAML::Load(texts[s]);
    } catch (const YAML::Exception&) {  // said as the scenario's own problem
      continue;
    }
    if (loads[s]) {
      // The detectors, once against the scenario as it is (its cells may not load).
      try {
        RunOptions options;
        options.detectors = spec.detectors;
        options.detectors_source = "--detectors";  // placed at the token (place_at_detector)
        options.incident_rules = false;
        options.script_path = script_problem.empty() ? spec.script_path : "";
        options.detector_folder = std::filesystem::path(spec.file).parent_path().string();
        Scenario scenario = parse_scenario(texts[s], file);
        if (spec.script_path.empty()) scenario.script.clear();
        RunPlan::from_scenario(std::move(scenario), options);
      } catch (const Error& error) {
        for (Diagnostic d : error.diagnostics())
          if (place_at_detector(spec, d)) report(d);  // the cells report the rest, with values
      }
    }
    std::vector<PathStep> steps;
    for (std::size_t p = 0; p < parameter_count; ++p) {
      const SweepParameter& parameter = spec.parameters[p];
      PathProblem problem;
      parse_path(parameter.path, steps, problem);  // checked when the file was read
      if (!locate_path(root, texts[s], steps, edits[s][p], problem)) {
        SourcePos pos = parameter.pos;
        if (pos.line > 0) pos.column += static_cast<int>(problem.offset);
        report({spec.file, pos.line, pos.column,
                "'" + parameter.path + "' addresses nothing in " + spec.scenarios[s] + ": " +
                    problem.message});
        continue;
      }
      located[s][p] = true;
      const std::string unrun = detector_not_run(root, steps, spec.detectors);
      if (!unrun.empty())
        report({spec.file, parameter.pos.line, parameter.pos.column,
                "'" + parameter.path + "' changes detector '" + unrun + "' of " +
                    spec.scenarios[s] + ", which the sweep does not run: add '" + unrun +
                    "' to 'detectors' (a sweep runs only the detectors it lists)"});
      // A path written twice is said once, where it is read ("swept twice"): not again as
      // addressing what another path does.
      bool repeated = false;
      for (std::size_t q = 0; q < p; ++q)
        repeated = repeated || spec.parameters[q].path == parameter.path;
      if (repeated) located[s][p] = false;  // written once, by the first
      for (std::size_t q = 0; q < p && !repeated; ++q) {
        const TextEdit& a = edits[s][q];
        const TextEdit& b = edits[s][p];
        const bool overlap = a.begin == a.end   ? (b.begin < a.begin && a.begin < b.end)
                             : b.begin == b.end ? (a.begin < b.begin && b.begin < a.end)
                                                : (a.begin < b.end && b.begin < a.end);
        if (overlap || (a.begin == b.begin && a.end == b.end && a.begin != a.end)) {
          report({spec.file, parameter.pos.line, parameter.pos.column,
                  "'" + parameter.path + "' addresses the same value as '" +
                      spec.parameters[q].path + "' in " + spec.scenarios[s]});
          located[s][p] = false;
        }
      }
    }
  }

  // The cells: scenario x grid point x random sample x mode. Too many are reported at the key
  // whose values make them too many, with the other problems, and none is made.
  double cell_count = 1;  // exact far beyond the most cells
  SourcePos too_many_at;  // the key whose values make too many cells
  auto grow = [&](std::size_t factor, SourcePos pos) {
    cell_count *= static_cast<double>(std::max<std::size_t>(factor, 1));
    if (cell_count > kMaxSweepCells && too_many_at.line == 0) too_many_at = pos;
  };
  grow(scenario_count, spec.scenario_pos.empty() ? SourcePos{1, 1} : spec.scenario_pos.back());
  for (const SweepParameter& parameter : spec.parameters)
    if (!parameter.random) grow(parameter.values.size(), parameter.pos);
  grow(static_cast<std::size_t>(std::max(spec.samples, 1)), spec.samples_pos);
  grow(spec.modes.size(), spec.modes_pos);
  const double run_count = cell_count * spec.seed_count;
  const bool too_many = cell_count > kMaxSweepCells || run_count > kMaxSweepRuns;
  if (cell_count > kMaxSweepCells)
    report({spec.file, too_many_at.line, too_many_at.column,
            "the sweep would make " + format_number(cell_count) + " cells: at most " +
                std::to_string(kMaxSweepCells)});
  else if (run_count > kMaxSweepRuns)
    report({spec.file, spec.seeds_pos.line, spec.seeds_pos.column,
            "the sweep would make " + format_number(cell_count) + " cells x " +
                std::to_string(spec.seed_count) + " seeds = " + format_number(run_count) +
                " runs: at most " + std::to_string(kMaxSweepRuns)});
  std::vector<std::size_t> grid;  // the grid parameters' indices
  for (std::size_t p = 0; p < parameter_count; ++p)
    if (!spec.parameters[p].random) grid.push_back(p);
  std::size_t grid_points = 1;
  for (const std::size_t p : grid) grid_points *= spec.parameters[p].values.size();
  const std::size_t samples = static_cast<std::size_t>(std::max(spec.samples, 1));
  std::vector<std::string> modes = spec.modes;
  if (modes.empty()) modes.push_back("");  // the scenario's own

  RunOptions base_options;
  base_options.detectors = spec.detectors;
  base_options.detectors_source = "--detectors";
  base_options.incident_rules = false;
  base_options.script_path = script_problem.empty() ? spec.script_path : "";  // said above
  base_options.detector_folder = std::filesystem::path(spec.file).parent_path().string();
  Hash hash;
  hash.add("dosim " DOSIM_VERSION);
  hash.add(std::to_string(spec.seed_count));
  for (const std::uint64_t seed : spec.seeds) hash.add(std::to_string(seed));
  for (const std::string& detector : spec.detectors) hash.add(detector);
  for (const SweepParameter& parameter : spec.parameters) hash.add(parameter.path);
  for (std::size_t s = 0; s < scenario_count; ++s) hash.add(texts[s]);
  if (!spec.script_path.empty()) {
    std::string reason;
    hash.add(read_input_file(spec.script_path, kMaxScriptBytes, reason).value_or(reason));
  }

  // A scenario's problem away from every swept value (a fault's start past a swept
  // `duration`) shows in many cells: said once, with the values its cells share.
  struct CellProblem {
    Diagnostic first;
    std::size_t cells = 0;
    std::vector<std::optional<std::string>> shared;  // "path = value", nullopt where cells differ
  };
  std::map<std::string, CellProblem> cell_problems;
  std::vector<std::string> cell_problem_order;
  // Each cell's input files (a plan's inputs(), the same for most cells: each list once).
  using Inputs = std::vector<std::pair<std::string, std::string>>;
  std::map<Inputs, std::size_t> input_list_index;
  std::vector<const Inputs*> input_lists;
  std::vector<std::size_t> cell_inputs;
  for (std::size_t s = 0; s < scenario_count; ++s) {
    if (!loads[s] || too_many) continue;
    for (std::size_t point = 0; point < grid_points; ++point) {
      for (std::size_t sample = 0; sample < samples; ++sample) {
        SweepCell cell;
        cell.scenario = s;
        cell.values.assign(parameter_count, 0);
        std::size_t rest = point;  // the last grid parameter varies fastest
        for (std::size_t g = grid.size(); g-- > 0;) {
          const std::size_t size = spec.parameters[grid[g]].values.size();
          cell.values[grid[g]] = rest % size;
          rest /= size;
        }
        std::size_t range_index = 0;
        for (std::size_t p = 0; p < parameter_count; ++p) {
          if (!spec.parameters[p].random) continue;
          cell.values[p] = cell.sampled.size();
          cell.sampled.push_back(
              sample_value(spec.parameters[p], uniform(spec.random_seed, sample, range_index++)));
        }
        // The scenario with this cell's values, loaded once for all its modes.
        std::vector<std::pair<TextEdit, std::string>> cell_edits;
        std::vector<std::string> described;  // "path = value" of each parameter, for messages
        for (std::size_t p = 0; p < parameter_count; ++p) {
          const SweepValue& value = spec.parameters[p].random
                                        ? cell.sampled[cell.values[p]]
                                        : spec.parameters[p].values[cell.values[p]];
          // A path not found writes nothing (its problem is reported already).
          cell_edits.emplace_back(located[s][p] ? edits[s][p] : TextEdit{0, 0, "", ""},
                                  located[s][p] ? value.text : "");
          described.push_back(spec.parameters[p].path + " = " + value.display);
          hash.add(value.display);
        }
        const EditedText edited(texts[s], std::move(cell_edits));
        std::optional<Scenario> scenario;
        std::size_t cells_checked = modes.size();  // a scenario that does not load: each mode's
        auto map_problems = [&](const std::vector<Diagnostic>& diagnostics) {
          for (Diagnostic d : diagnostics) {
            if (place_at_detector(spec, d)) {
            } else if (d.file == spec.scenario_paths[s] && d.line > 0) {
              const EditedText::Origin origin = edited.origin(d.line, d.column);
              if (origin.edit >= 0) {
                const SweepParameter& parameter = spec.parameters[origin.edit];
                const SweepValue& value = parameter.random
                                              ? cell.sampled[cell.values[origin.edit]]
                                              : parameter.values[cell.values[origin.edit]];
                const SourcePos pos =
                    value.pos.line > 0 && !origin.in_key ? value.pos : parameter.pos;
                if (origin.in_key) {
                  // A key the path adds (misspelt, or none the section has): the path's
                  // problem, said once whatever the values.
                  d.message += " (" + spec.scenarios[s] + ", " + parameter.path + ")";
                } else {
                  if (parameter.random && d.warning) {  // the first sample's warnings alone
                    auto [first, added] = sample_warned.try_emplace(origin.edit, value.display);
                    if (first->second != value.display) continue;
                  } else if (parameter.random) {  // the first sample's problems, then a count
                    auto& [first, bad] = sample_problems[origin.edit];
                    if (bad.empty()) first = value.display;
                    bad.insert(value.display);
                    if (value.display != first) continue;
                  }
                  d.message += " (" + spec.scenarios[s] + ", " + parameter.path + " = " +
                               value.display + (parameter.random ? ", a random sample" : "") + ")";
                }
                d.file = spec.file;
                d.line = pos.line;
                d.column = pos.column;
              } else {
                d.line = origin.line;
                d.column = origin.column;
                if (!described.empty()) {
                  const std::string key = d.format();
                  auto [at, added] = cell_problems.try_emplace(key);
                  CellProblem& group = at->second;
                  if (added) {
                    cell_problem_order.push_back(key);
                    group.first = d;
                    group.shared.assign(described.begin(), described.end());
                  }
                  group.cells += cells_checked;
                  for (std::size_t p = 0; p < parameter_count; ++p)
                    if (group.shared[p] && *group.shared[p] != described[p])
                      group.shared[p].reset();
                  continue;
                }
              }
            }
            report(std::move(d));
          }
        };
        try {
          scenario = parse_scenario(edited.text(), spec.scenario_paths[s]);
          if (spec.script_path.empty()) scenario->script.clear();  // as dosim bench
        } catch (const Error& error) {
          map_problems(error.diagnostics());
          continue;
        }
        map_problems(scenario->warnings);
        cells_checked = 1;
        for (const std::string& mode : modes) {
          SweepCell moded = cell;
          RunOptions options = base_options;
          if (!mode.empty())
            options.mode = mode == "requests" ? WorldMode::kRequests : WorldMode::kFluid;
          try {
            RunPlan run_plan = RunPlan::from_scenario(*scenario, options);
            moded.mode = world_mode_name(run_plan.scenario().mode);
            moded.base_seed = run_plan.seed();
            hash.add(moded.mode);
            const auto [list, added] =
                input_list_index.try_emplace(run_plan.inputs(), input_lists.size());
            if (added) input_lists.push_back(&list->first);
            cell_inputs.push_back(list->second);
            plan.cells.push_back(std::move(moded));
          } catch (const Error& error) {
            map_problems(error.diagnostics());
          }
        }
      }
    }
  }
  for (const std::string& key : cell_problem_order) {
    const CellProblem& group = cell_problems.at(key);
    std::string shared;
    for (const std::optional<std::string>& value : group.shared)
      if (value) shared += (shared.empty() ? "" : ", ") + *value;
    Diagnostic d = group.first;
    if (group.cells == 1)
      d.message += " (with " + shared + ")";
    else
      d.message += " (in " + std::to_string(group.cells) + " cells" +
                   (shared.empty() ? "" : ", each with " + shared) + ")";
    report(std::move(d));
  }
  for (const auto& [p, samples] : sample_problems)
    if (const std::set<std::string>& bad = samples.second; bad.size() > 1)
      // The line stands for the samples it counts (the total counts every bad sample, as a
      // long list's "N more problems not listed" does; it counted the line as one).
      report({spec.file, spec.parameters[static_cast<std::size_t>(p)].pos.line,
              spec.parameters[static_cast<std::size_t>(p)].pos.column,
              "and " + std::to_string(bad.size() - 1) + " more random samples of '" +
                  spec.parameters[static_cast<std::size_t>(p)].path +
                  "' with problems (each sample is checked)",
              false, bad.size() - 1});
  if (!problems.empty()) {
    // The sweep file's problems first, each file's in order of position.
    std::stable_sort(problems.begin(), problems.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) {
                       return std::make_tuple(a.file != spec.file, a.file, a.line, a.column) <
                              std::make_tuple(b.file != spec.file, b.file, b.line, b.column);
                     });
    throw InputError(std::move(problems));
  }
  // The files each cell's runs read: a result depends on their bytes as on the scenario's (a
  // manifest, a replayed CSV, a model or a Python detector edited between a stopped sweep and
  // its --resume makes another sweep). Each file is read once; never its path, which depends
  // on the working directory.
  std::map<std::string, std::string> file_hashes;
  for (const std::size_t list : cell_inputs) {
    for (const auto& input : *input_lists[list]) {
      auto known = file_hashes.find(input.second);
      if (known == file_hashes.end()) {
        Hash file_hash;
        file_hash.add_file(input.second);
        known = file_hashes.emplace(input.second, file_hash.hex()).first;
        plan.inputs.push_back(input.second);
      }
      hash.add(input.first);
      hash.add(known->second);
    }
  }
  plan.hash = hash.hex();
  plan.scenario_texts = std::move(texts);
  plan.edits = std::move(edits);
  plan.run_options = base_options;
  plan.spec = std::move(spec);
  return plan;
}

}  // namespace dosim::cli
