// dosim rules score TRACE.h5 RULES.yml [--eval-interval D] [--keep DIR] [--json]: a team's
// Prometheus alerting rules evaluated by the real Prometheus over the run's series, and the
// alerts they fire scored against the run's ground truth like any detector
// (docs/prometheus.md, "Your own rules"). The steps, each with the real tools: promtool
// check rules; the trace exported as OpenMetrics and backfilled (promtool tsdb
// create-blocks-from openmetrics); Prometheus started on 127.0.0.1 over the blocks;
// recording rules backfilled with promtool tsdb create-blocks-from rules (and Prometheus
// restarted over them); each alerting rule's expression queried over the run at the rule's
// evaluation interval (/api/v1/query_range); `for:` applied as Prometheus applies it.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

#include "commands.h"
#include "dosim/analysis/external_scores.h"
#include "dosim/analysis/metrics_export.h"
#include "dosim/analysis/prometheus_rules.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/analysis/trace_series.h"
#include "promtool_problems.h"
#include "score_table.h"
#include "util/input_file.h"
#include "util/process.h"

namespace dosim::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

void require(const ProcessResult& result, const std::string& what) {
  if (!result.started)
    throw InputError("promtool", "dosim rules score runs the real Prometheus tools; " + what +
                                     " could not be started (Debian: apt-get install prometheus)");
  if (result.exit_code != 0) {
    std::string said = result.output;  // without its last newline, which would be shown as \n
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r' || said.back() == ' '))
      said.pop_back();
    throw InputError(what, said);
  }
}

// Prometheus on 127.0.0.1 over `tsdb`, ready to answer.
std::unique_ptr<BackgroundProcess> start_prometheus(const fs::path& work, const fs::path& tsdb,
                                                    int port) {
  const fs::path config = work / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 15s\n";
  auto server = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"prometheus", "--config.file=" + config.string(),
                               "--storage.tsdb.path=" + tsdb.string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--storage.tsdb.retention.time=100y"},
      (work / "prometheus.log").string());
  if (!server->started())
    throw InputError("prometheus", "cannot start prometheus (Debian: apt-get install prometheus)");
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (http_get(port, "/-/ready", 2000).ok) return server;
    if (!server->running())
      throw InputError("prometheus", "prometheus stopped at start; its log: " +
                                         (work / "prometheus.log").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw InputError("prometheus", "prometheus was not ready within 60 s");
}

int service_index(const std::vector<std::string>& services, const RuleLabels& labels) {
  for (const char* key : {"service", "caller"})
    for (const auto& [name, value] : labels)
      if (name == key)
        for (std::size_t s = 0; s < services.size(); ++s)
          if (services[s] == value) return static_cast<int>(s);
  return -1;
}

// The series names of the OpenMetrics export at `path`, from its `# TYPE NAME KIND` lines:
// a gauge's name, a histogram's _bucket, _count and _sum, an info's _info.
std::set<std::string> exported_names(const fs::path& path) {
  std::set<std::string> names;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string name, kind;
    words >> name >> kind;
    if (kind == "histogram")
      for (const char* suffix : {"_bucket", "_count", "_sum"}) names.insert(name + suffix);
    else if (kind == "info")
      names.insert(name + "_info");
    else
      names.insert(name);
  }
  return names;
}

// Where the PromQL string opened at expr[i] (a quote) ends: past its closing quote.
std::size_t past_string(const std::string& expr, std::size_t i) {
  const char quote = expr[i];
  std::size_t j = i + 1;
  while (j < expr.size() && expr[j] != quote) j += expr[j] == '\\' && quote != '`' ? 2 : 1;
  return j + 1;
}

bool opens_string(char c) { return c == '"' || c == '\'' || c == '`'; }

// The metric names an expression reads that look like dosim's (dosim_...): its identifiers
// outside quotes and not called as functions, and the names an exact `__name__="dosim_..."`
// matcher asks for.
std::vector<std::string> dosim_names_in(const std::string& expr) {
  std::vector<std::string> names;
  const auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  };
  for (std::size_t i = 0; i < expr.size();) {
    const char c = expr[i];
    if (opens_string(c)) {
      i = past_string(expr, i);
      continue;
    }
    if (!word(c)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < expr.size() && word(expr[j])) ++j;
    const std::string name = expr.substr(i, j - i);
    std::size_t k = j;
    while (k < expr.size() && std::isspace(static_cast<unsigned char>(expr[k]))) ++k;
    if (name.rfind("dosim_", 0) == 0 && (k == expr.size() || expr[k] != '(')) names.push_back(name);
    // `__name__ = "dosim_..."` (not =~ or !=): the name in the quotes.
    if (name == "__name__" && k + 1 < expr.size() && expr[k] == '=' && expr[k + 1] != '~') {
      std::size_t q = k + 1;
      while (q < expr.size() && std::isspace(static_cast<unsigned char>(expr[q]))) ++q;
      if (q < expr.size() && opens_string(expr[q])) {
        const std::size_t end = past_string(expr, q);
        const std::string quoted = expr.substr(q + 1, end - q - 2);
        if (quoted.rfind("dosim_", 0) == 0 && quoted.find('\\') == std::string::npos)
          names.push_back(quoted);
        j = end;
      }
    }
    i = j;
  }
  return names;
}

// The range selectors' durations in a PromQL expression (`x[5m]`; not a subquery's
// `[30m:1m]`), outside its strings.
std::vector<SimTime> ranges_in(const std::string& expr) {
  std::vector<SimTime> ranges;
  for (std::size_t i = 0; i < expr.size();) {
    if (opens_string(expr[i])) {
      i = past_string(expr, i);
      continue;
    }
    if (expr[i] != '[') {
      ++i;
      continue;
    }
    const std::size_t end = expr.find(']', i);
    if (end == std::string::npos) break;
    std::string inside = expr.substr(i + 1, end - i - 1);
    inside.erase(
        std::remove_if(inside.begin(), inside.end(),
                       [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); }),
        inside.end());
    if (inside.find(':') == std::string::npos)
      if (const SimTime range = parse_prometheus_duration(inside); range > 0)
        ranges.push_back(range);
    i = end + 1;
  }
  return ranges;
}

std::string label(const RuleLabels& labels, const std::string& key) {
  for (const auto& [name, value] : labels)
    if (name == key) return value;
  return "";
}

}  // namespace

// promtool check rules' verdict on `path`: its problems at their positions in the file
// (promtool_problems.h).
void check_rule_file(const std::string& path) {
  const ProcessResult result = run_process({"promtool", "check", "rules", path});
  require(ProcessResult{result.started, 0, ""}, "promtool check rules");  // not started
  if (result.exit_code == 0) return;
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<Diagnostic> problems = promtool_problems(path, result.output, text);
  if (problems.empty()) problems.push_back({path, 0, 0, "promtool check rules refused it"});
  throw InputError(by_position(std::move(problems), path));
}

int rules_command(const RulesOptions& options) {
  // Before promtool opens it: a FIFO would block it for ever.
  if (const std::string problem = input_file_problem(options.rules_path); !problem.empty())
    throw InputError(options.rules_path, "cannot read file: " + problem);
  {  // The two files given the other way round: said as such, not as a YAML error.
    std::ifstream in(options.rules_path, std::ios::binary);
    char magic[8] = {};
    in.read(magic, sizeof magic);
    if (in.gcount() == 8 && std::string_view(magic, 8) == std::string_view("\x89HDF\r\n\x1a\n", 8))
      throw InputError(options.rules_path,
                       "this is an HDF5 file, not a rule file: the trace comes first (dosim "
                       "rules score TRACE RULES.yml)");
  }
  if (looks_like_scenario(options.rules_path))  // promtool said 13 unknown fields of it
    throw InputError(options.rules_path,
                     "this is a scenario, not a Prometheus rule file (groups: of rules): dosim "
                     "rules score TRACE RULES.yml");
  check_rule_file(options.rules_path);
  const RuleFile rules = read_rule_file(options.rules_path);
  const TraceSeries series = read_trace_series(options.trace_path);
  const TraceForScoring trace = read_trace_for_scoring(options.trace_path);
  SimTime eval_default = series.record_interval;
  if (!options.eval_interval.empty()) {
    eval_default = parse_prometheus_duration(options.eval_interval);
    if (eval_default <= 0)
      throw InputError("command line",
                       "--eval-interval must be a duration above 0 such as 30s, got '" +
                           options.eval_interval + "'");
  }

  // A working folder: the export, the blocks, Prometheus's log.
  fs::path work;
  if (options.keep.empty()) {
    std::string pattern = (fs::temp_directory_path() / "dosim-rules-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw InputError(pattern, "cannot create a working folder");
    work = pattern;
  } else {
    // A new or empty folder, or one an earlier --keep wrote (it replaces its own files):
    // never a file, nor a folder of other things (its tsdb/ would be replaced).
    work = options.keep;
    std::error_code error;
    if (fs::exists(work, error)) {
      if (!fs::is_directory(work, error))
        throw InputError(options.keep,
                         "--keep names a file; it takes a folder to keep the "
                         "export, the blocks and Prometheus's log in");
      if (!fs::is_empty(work, error) && !fs::exists(work / "series.om", error))
        throw InputError(options.keep,
                         "--keep names a folder that holds other files; give a "
                         "new or empty one");
    }
    fs::create_directories(work, error);
    if (error) throw InputError(options.keep, "cannot make the --keep folder: " + error.message());
  }
  struct Cleanup {
    fs::path path;
    bool keep;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } cleanup{work, !options.keep.empty()};

  // The simulated calendar's start, Monday 1 January 2024 00:00 UTC (as schedules and cron
  // read it; our Prometheus keeps 100 years): time(), hour() and day_of_week() then see the
  // run's simulated time, the same whenever the command runs, never the wall clock. A
  // multiple of the evaluation interval, as promtool aligns a recording rule's evaluations,
  // so that they fall on the run's rows.
  constexpr double kCalendarStart = 1704067200;
  const SimTime span = series.times.empty() ? 0 : series.times.back();
  const double align = std::max(1.0, std::round(eval_default / 1e9));
  const double start = std::floor(kCalendarStart / align) * align;
  {
    std::ofstream out(work / "series.om", std::ios::binary);
    write_openmetrics(series, start, out);
    if (!out) throw InputError((work / "series.om").string(), "cannot write the export");
  }
  // A rule that reads a dosim_ name the export has not (a misspelling) answers nothing and
  // never fires: said before it is evaluated, not left as "0 alerts".
  {
    std::set<std::string> readable = exported_names(work / "series.om");  // and recorded
    readable.insert(rules.recorded.begin(), rules.recorded.end());
    const std::vector<std::string> known(readable.begin(), readable.end());
    const auto check = [&](const std::string& rule, int line, int column, const std::string& expr) {
      std::set<std::string> said;
      for (const std::string& name : dosim_names_in(expr))
        if (!readable.count(name) && said.insert(name).second)
          std::fprintf(stderr, "%s\n",
                       Diagnostic{options.rules_path, line, column,
                                  rule + " reads '" + name +
                                      "', which the trace's export does not have (it answers "
                                      "nothing)" +
                                      did_you_mean(name, known),
                                  true}
                           .format()
                           .c_str());
    };
    const auto warn = [&](int line, int column, const std::string& message) {
      std::fprintf(stderr, "%s\n",
                   Diagnostic{options.rules_path, line, column, message, true}.format().c_str());
    };
    for (const AlertingRule& rule : rules.alerts) {
      check("rule '" + rule.name + "'", rule.line, rule.column, rule.expr);
      const SimTime step =
          options.eval_interval.empty() && rule.interval > 0 ? rule.interval : eval_default;
      if (step > span) {
        warn(rule.line, rule.column,
             "rule '" + rule.name + "' is evaluated every " + format_duration(step) +
                 ", longer than the run (" + format_duration(span) + "): it is never evaluated");
        continue;
      }
      // A range holds a row's sample and the one before only where it reaches back that far
      // from the evaluation: shorter than the rows (or evaluated between rows, and shorter
      // than two rows), it holds one, and rate() answers nothing there: an alert on it flaps.
      const SimTime rows = series.record_interval;
      for (const SimTime range : ranges_in(rule.expr))
        if (range < rows || (range < 2 * rows && step % rows != 0)) {
          warn(rule.line, rule.column,
               "rule '" + rule.name + "' takes a range of " + format_duration(range) +
                   " and is evaluated every " + format_duration(step) +
                   (range < rows ? "" : ", between the trace's rows") + "; the rows are " +
                   format_duration(rows) +
                   " apart, so its range holds one sample there, and rate(), increase() and "
                   "the like answer nothing: give at least twice the row interval");
          break;
        }
    }
    for (const RecordingRule& rule : rules.recordings) {
      check("recording rule '" + rule.name + "'", rule.line, rule.column, rule.expr);
      // promtool evaluates a group at an offset of its own between the rows: a range no
      // longer than the row interval then holds one sample, and rate() records nothing.
      for (const SimTime range : ranges_in(rule.expr))
        if (range <= series.record_interval) {
          std::fprintf(stderr, "%s\n",
                       Diagnostic{options.rules_path, rule.line, rule.column,
                                  "recording rule '" + rule.name + "' takes a range of " +
                                      format_duration(range) +
                                      ", no longer than the trace's row interval (" +
                                      format_duration(series.record_interval) +
                                      "): evaluated between two rows it holds one sample, and "
                                      "rate(), increase() and the like record nothing; give at "
                                      "least twice the interval",
                                  true}
                           .format()
                           .c_str());
          break;
        }
    }
  }
  const fs::path tsdb = work / "tsdb";
  fs::remove_all(tsdb);
  require(run_process({"promtool", "tsdb", "create-blocks-from", "openmetrics",
                       (work / "series.om").string(), tsdb.string()}),
          "promtool tsdb create-blocks-from openmetrics");
  const int port = free_loopback_port();
  if (port == 0) throw InputError("127.0.0.1", "no free port for prometheus");
  auto server = start_prometheus(work, tsdb, port);
  if (rules.recording_rules > 0) {
    // promtool asks Prometheus for a block's evaluations (2 h) in one query, which answers at
    // most 11,000 points a series: the run is backfilled in pieces of kPointsPerQuery
    // evaluations, each its own call (the pieces do not overlap; the groups' offsets are
    // taken from absolute time, so they are the same in every piece).
    // promtool evaluates a group with an `interval:` at that one, the others at
    // --eval-interval: with dosim's --eval-interval given, the file it reads has no group
    // interval (the flag "sets it for every rule"), else the pieces are as long as the
    // shortest interval allows.
    std::string backfilled_rules = options.rules_path;
    SimTime shortest = eval_default;
    if (!options.eval_interval.empty()) {
      YAML::Node root = YAML::LoadFile(options.rules_path);
      bool stripped = false;
      for (YAML::Node group : root["groups"])
        if (group.IsMap() && group["interval"]) stripped = group.remove("interval") || stripped;
      if (stripped) {
        YAML::Emitter emitter;
        emitter << root;
        backfilled_rules = (work / "recording-rules.yml").string();
        std::ofstream(backfilled_rules) << emitter.c_str() << "\n";
      }
    } else {
      for (const RecordingRule& rule : rules.recordings)
        if (rule.interval > 0) shortest = std::min(shortest, rule.interval);
    }
    constexpr SimTime kEvaluationsPerPiece = 10000;
    const SimTime piece = kEvaluationsPerPiece * shortest;
    const fs::path staged = work / "recorded-blocks";  // the pieces' blocks until the restart
    fs::remove_all(staged);
    fs::create_directories(staged);
    std::vector<fs::path> blocks;
    for (SimTime from = 0; from <= span;) {
      SimTime to = std::min(span, from + piece - shortest);
      // promtool refuses a piece of one evaluation (its start not before its end): a last
      // one left alone joins this piece (10,001 evaluations, within the 11,000 points).
      if (to < span && to + shortest >= span) to = span;
      const fs::path recorded = work / "recorded";
      fs::remove_all(recorded);
      require(run_process({"promtool", "tsdb", "create-blocks-from", "rules",
                           "--start=" + seconds_text(start + from / 1e9),
                           "--end=" + seconds_text(start + to / 1e9),
                           "--url=http://127.0.0.1:" + std::to_string(port),
                           "--output-dir=" + recorded.string(),
                           "--eval-interval=" + std::to_string(eval_default / kMillisecond) + "ms",
                           backfilled_rules}),
              "promtool tsdb create-blocks-from rules");
      if (fs::exists(recorded))  // blocks are named by ULIDs, unique across the pieces
        for (const auto& block : fs::directory_iterator(recorded))
          if (block.is_directory()) blocks.push_back(block.path().filename());
      if (fs::exists(recorded))
        for (const fs::path& name : blocks)
          if (fs::exists(recorded / name)) fs::rename(recorded / name, staged / name);
      from = to + shortest;
    }
    server.reset();  // stop it; the recorded blocks join the others
    for (const fs::path& name : blocks) fs::rename(staged / name, tsdb / name);
    server = start_prometheus(work, tsdb, port);
  }

  // Each alerting rule over the run, at its evaluation interval.
  struct Fired {
    Alert alert;
    RuleLabels labels;
  };
  std::vector<Fired> fired_alerts;
  std::vector<std::pair<std::string, std::size_t>> fired_per_rule;
  std::vector<std::pair<std::string, std::size_t>> over_limit_per_rule;  // failed evaluations
  for (const AlertingRule& rule : rules.alerts) {
    const SimTime step =
        options.eval_interval.empty() && rule.interval > 0 ? rule.interval : eval_default;
    std::vector<SimTime> times;
    for (SimTime t = step; t <= span; t += step) times.push_back(t);
    std::size_t fired = 0;
    // Each alert the rule made, by its labels (the series' with the rule's labels expanded
    // over it at each evaluation, as Prometheus builds an alert's identity), in the order
    // Prometheus first gave it, with the evaluation times it was present at. The run is asked
    // in pieces: Prometheus answers at most 11,000 points per series and query.
    std::vector<RuleLabels> hit_labels;
    std::vector<std::vector<bool>> hit_present;
    std::map<RuleLabels, std::size_t> hit_index;
    const bool per_value = rule.labels_use_value();
    constexpr std::size_t kPointsPerQuery = 10000;
    for (std::size_t first = 0; first < times.size(); first += kPointsPerQuery) {
      const std::size_t last = std::min(times.size(), first + kPointsPerQuery) - 1;
      const std::string target = "/api/v1/query_range?query=" + url_encoded(rule.expr) +
                                 "&start=" + seconds_text(start + times[first] / 1e9) +
                                 "&end=" + seconds_text(start + times[last] / 1e9) +
                                 "&step=" + seconds_text(step / 1e9);
      const HttpResponse response = http_get(port, target);
      if (!response.ok)
        throw InputError({Diagnostic{options.rules_path, rule.line, rule.column,
                                     "rule '" + rule.name + "': Prometheus answered " +
                                         std::to_string(response.status) + ": " + response.body}});
      const Json body = Json::parse(response.body);
      for (const Json& result : body["data"]["result"]) {
        RuleLabels series_labels;  // `$labels`: __name__ included where the result keeps it
        for (const auto& [name, value] : result["metric"].items())
          series_labels.emplace_back(name, value.get<std::string>());
        const RuleLabels fixed = per_value ? RuleLabels{} : alert_labels(rule, series_labels, 0);
        for (const Json& point : result["values"]) {
          const double at = point[0].get<double>() - start;
          const long long k = std::llround(at * 1e9 / static_cast<double>(step)) - 1;
          if (k < 0 || static_cast<std::size_t>(k) >= times.size()) continue;
          const double value = std::strtod(point[1].get<std::string>().c_str(), nullptr);
          RuleLabels labels = per_value ? alert_labels(rule, series_labels, value) : fixed;
          const auto [found, added] = hit_index.emplace(labels, hit_labels.size());
          if (added) {
            hit_labels.push_back(std::move(labels));
            hit_present.emplace_back(times.size(), false);
          }
          std::vector<bool>::reference present = hit_present[found->second][k];
          if (present)  // Prometheus fails such an evaluation
            throw InputError({Diagnostic{
                options.rules_path, rule.line, rule.column,
                "rule '" + rule.name + "': at " +
                                 format_duration(times[static_cast<std::size_t>(k)]) +
                                 " two series have the same labels once the rule's labels are "
                                 "applied (Prometheus: vector contains metrics with the same "
                                 "labelset after applying alert labels); keep a label that "
                                 "tells them apart"}});
          present = true;
        }
      }
    }
    // The group's `limit:`: an evaluation with more alerts than that fails and drops them.
    const std::vector<std::size_t> over_limit = apply_alert_limit(hit_present, rule.limit);
    if (!over_limit.empty()) over_limit_per_rule.emplace_back(rule.name, over_limit.size());
    for (std::size_t j = 0; j < hit_labels.size(); ++j) {
      const RuleLabels& labels = hit_labels[j];
      for (const auto& [from, to] : firing_windows(times, hit_present[j], rule.hold)) {
        Alert alert;
        alert.time = from;
        alert.resolved = to;
        alert.detector = rule.name;
        alert.service = service_index(series.services, labels);
        alert.severity = label(labels, "severity").empty() ? "warning" : label(labels, "severity");
        alert.metric = label(labels, "metric");
        alert.target = !label(labels, "caller").empty()
                           ? label(labels, "caller") + "->" + label(labels, "callee")
                           : label(labels, "service");
        fired_alerts.push_back({alert, labels});
        ++fired;
      }
    }
    fired_per_rule.emplace_back(rule.name, fired);
    // Alerts with neither a service nor a caller label match no incident: every one scores
    // as a false alarm, however well timed (an aggregation without `by (service)`).
    std::size_t unplaced = 0;
    for (std::size_t j = fired_alerts.size() - fired; j < fired_alerts.size(); ++j)
      if (fired_alerts[j].alert.service < 0) ++unplaced;
    if (unplaced > 0)
      std::fprintf(stderr, "%s\n",
                   Diagnostic{options.rules_path, rule.line, rule.column,
                              "rule '" + rule.name + "': " + std::to_string(unplaced) + " of its " +
                                  std::to_string(fired) +
                                  " alerts name no service of the trace (no 'service' or "
                                  "'caller' label, or another value): they match no incident "
                                  "and score as false alarms; keep the label (`by (service)`)",
                              true}
                       .format()
                       .c_str());
  }
  server.reset();
  std::stable_sort(fired_alerts.begin(), fired_alerts.end(),
                   [](const Fired& a, const Fired& b) { return a.alert.time < b.alert.time; });
  std::vector<Alert> alerts;
  for (const Fired& f : fired_alerts) alerts.push_back(f.alert);
  std::vector<std::string> rule_names;  // every rule has its row, one that never fired too
  for (const auto& entry : fired_per_rule)
    if (std::find(rule_names.begin(), rule_names.end(), entry.first) == rule_names.end())
      rule_names.push_back(entry.first);
  const ScoreTable table = score_external_alerts(trace, alerts, rule_names);
  if (options.json) {
    auto out = nlohmann::ordered_json::parse(score_table_json(table));
    nlohmann::ordered_json per_rule = nlohmann::ordered_json::object();
    for (const auto& [name, count] : fired_per_rule) per_rule[name] = count;
    out["source"] = {{"rules", options.rules_path}, {"alerts_per_rule", per_rule}};
    if (!over_limit_per_rule.empty()) {
      nlohmann::ordered_json failed = nlohmann::ordered_json::object();
      for (const auto& [name, count] : over_limit_per_rule) failed[name] = count;
      out["source"]["evaluations_over_limit"] = failed;
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Fired& f : fired_alerts) {
      const Alert& a = f.alert;
      nlohmann::ordered_json labels = nlohmann::ordered_json::object();
      for (const auto& [name, value] : f.labels) labels[name] = value;
      list.push_back({{"time_s", a.time / 1e9},
                      {"rule", a.detector},
                      {"service", a.service >= 0 ? series.services[a.service] : ""},
                      {"severity", a.severity},
                      {"resolved_s", a.resolved < 0 ? -1.0 : a.resolved / 1e9},
                      {"labels", labels}});
    }
    out["alerts"] = list;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  const auto plural = [](std::size_t n) { return n == 1 ? "" : "s"; };
  const std::string recording = rules.recording_rules
                                    ? " (and " + std::to_string(rules.recording_rules) +
                                          " recording rule" + plural(rules.recording_rules) + ")"
                                    : "";
  std::printf("dosim rules score: %s: %zu alerting rule%s%s, evaluated by Prometheus over %s%s\n",
              options.rules_path.c_str(), rules.alerts.size(), plural(rules.alerts.size()),
              recording.c_str(), options.trace_path.c_str(),
              trace.complete ? "" : "  [INCOMPLETE]");
  for (const auto& [name, count] : fired_per_rule) {
    SimTime first = -1;
    for (const Alert& a : alerts)
      if (a.detector == name) {
        first = a.time;
        break;
      }
    std::printf("  rule %-28s %zu alert%s%s%s\n", name.c_str(), count, plural(count),
                first >= 0 ? ", first at " : "", first >= 0 ? format_duration(first).c_str() : "");
    for (const auto& [failed_rule, failed] : over_limit_per_rule)
      if (failed_rule == name)
        std::printf("    %zu evaluations failed: more alerts than the group's limit\n", failed);
  }
  print_score_table(table);
  return kExitOk;
}

}  // namespace dosim::cli
