// Rankings made elsewhere, read for `dosim score --rca` (dosim/analysis/root_cause.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "dosim/analysis/root_cause.h"
#include "dosim/error.h"
#include "util/csv.h"
#include "util/input_file.h"
#include "util/json_keys.h"

namespace dosim {
namespace {

std::string candidate_id(std::string text) {
  if (text.rfind("service:", 0) == 0 || text.rfind("edge:", 0) == 0 ||
      text.rfind("change:", 0) == 0)
    return text;
  return "service:" + text;
}

// What a trace holds, to check rankings against (none: not checked).
struct Known {
  std::set<std::int64_t> incidents;
  std::vector<std::string> candidates;  // "service:NAME" and "edge:CALLER->CALLEE", sorted
  std::string trace;                    // its path, for messages
};

Known known_of(const RcaSystem& system, const std::vector<IncidentRecord>& incidents,
               const std::string& trace) {
  Known known;
  known.trace = trace;
  for (const IncidentRecord& incident : incidents) known.incidents.insert(incident.id);
  for (const std::string& service : system.services)
    known.candidates.push_back("service:" + service);
  for (const auto& [caller, callee] : system.edges)
    known.candidates.push_back("edge:" + system.services.at(caller) + "->" +
                               system.services.at(callee));
  std::sort(known.candidates.begin(), known.candidates.end());
  return known;
}

// Why `incident` cannot be ranked against the trace, or "".
std::string incident_problem(const Known* known, std::int64_t incident) {
  if (known == nullptr || known->incidents.count(incident)) return "";
  return "incident_id " + std::to_string(incident) + " is not an incident of " + known->trace;
}

// Why `candidate` (as written) names nothing of the trace, or "". A change's name is not
// checked: a script may have added it, and the trace keeps no change names.
std::string candidate_problem(const Known* known, const std::string& candidate) {
  const std::string id = candidate_id(candidate);
  if (known == nullptr || id.rfind("change:", 0) == 0 ||
      std::binary_search(known->candidates.begin(), known->candidates.end(), id))
    return "";
  return "candidate '" + candidate + "' is no service or dependency of " + known->trace +
         did_you_mean(id, known->candidates);
}

// A delay in seconds as SimTime, if it is one: finite, in [0, 1e9].
std::optional<SimTime> delay_of(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return std::nullopt;
  return static_cast<SimTime>(std::llround(seconds * 1e9));
}
constexpr const char* kDelayRule = "delay_s must be a number of seconds in [0, 1e9]";

// Rankings keyed by (ranker, delay, incident) in order of first appearance.
class Collector {
 public:
  // The ranking of (ranker, delay, incident), made empty on first use (at `line`).
  std::size_t open(const std::string& ranker, SimTime delay, std::int64_t incident, int line = 0) {
    const auto key = std::make_tuple(ranker, delay, incident);
    auto found = index_.find(key);
    if (found == index_.end()) {
      found = index_.emplace(key, rankings_.size()).first;
      rankings_.push_back({incident, ranker, delay, -1, {}});
      ranks_.emplace_back();
      lines_.push_back(line);
    }
    return found->second;
  }
  // The line that opened (ranker, delay, incident), or 0 if none did.
  int opened_at(const std::string& ranker, SimTime delay, std::int64_t incident) const {
    const auto found = index_.find(std::make_tuple(ranker, delay, incident));
    return found == index_.end() ? 0 : lines_[found->second];
  }
  // The line whose row gave (ranker, delay, incident) this rank already, or 0 (and the rank
  // is now `line`'s).
  int rank_given_at(const std::string& ranker, SimTime delay, std::int64_t incident, double rank,
                    int line) {
    const auto [found, added] =
        given_ranks_.emplace(std::make_tuple(ranker, delay, incident, rank), line);
    return added ? 0 : found->second;
  }
  // `given`: the rank was written (at `line`, `column`), not the file's order; the candidate
  // is at `candidate_column` of `line`.
  void add(const std::string& ranker, SimTime delay, std::int64_t incident, double rank,
           std::string candidate, bool given = false, int line = 0, int column = 0,
           int candidate_column = 1) {
    const std::size_t r = open(ranker, delay, incident);
    ranks_[r].push_back(rank);
    rankings_[r].candidates.push_back({candidate_id(std::move(candidate)), 0});
    given_.resize(rankings_.size());
    given_[r].push_back({given, line, column, candidate_column});
  }
  // A candidate named twice in one ranking (`database` and `service:database` are one), which
  // would take two places and push the others down, as a ranker's is refused. Problems at
  // the later rows, in `path`.
  std::vector<Diagnostic> duplicate_problems(const std::string& path) const {
    std::vector<Diagnostic> problems;
    for (std::size_t r = 0; r < given_.size(); ++r) {
      const RcaRanking& ranking = rankings_[r];
      std::map<std::string, std::size_t> first;  // candidate: where it is named first
      for (std::size_t i = 0; i < ranking.candidates.size(); ++i) {
        const auto [at, added] = first.emplace(ranking.candidates[i].id, i);
        if (added) continue;
        const Given& before = given_[r][at->second];
        const std::string where =
            before.line == given_[r][i].line
                ? "candidates " + std::to_string(at->second + 1) + " and " + std::to_string(i + 1)
                : "line " + std::to_string(before.line) + " too";
        problems.push_back({path, given_[r][i].line, given_[r][i].candidate_column,
                            "'" + ranking.candidates[i].id + "' is ranked twice in incident " +
                                std::to_string(ranking.incident) + " by " + ranking.ranker + " (" +
                                where + "): a ranking names each candidate once"});
      }
    }
    return problems;
  }
  // A ranking that writes ranks takes 1 to its number of candidates, each row one (rank
  // given twice is said at the row): AC@k reads a ranking's first k, so candidates ranked 4
  // and 5 alone would read as first and second. Problems at the rows, in `path`.
  // Rankings in `skip` (a row of theirs was left out: its rank is not known) are not looked at.
  using Key = std::tuple<std::string, SimTime, std::int64_t>;
  std::vector<Diagnostic> rank_problems(const std::string& path,
                                        const std::set<Key>& skip = {}) const {
    std::vector<Diagnostic> problems;
    for (std::size_t r = 0; r < given_.size(); ++r) {
      const std::vector<Given>& rows = given_[r];
      if (std::none_of(rows.begin(), rows.end(), [](const Given& g) { return g.given; })) continue;
      const RcaRanking& ranking = rankings_[r];
      if (skip.count({ranking.ranker, ranking.delay, ranking.incident})) continue;
      const std::string whose =
          "incident " + std::to_string(ranking.incident) + " by " + ranking.ranker;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].given)
          problems.push_back({path, rows[i].line, rows[i].column,
                              "no rank, where other rows of " + whose +
                                  " give one: give every row of a ranking its rank, or none "
                                  "(the file's order)"});
        else if (ranks_[r][i] > static_cast<double>(rows.size()))
          problems.push_back({path, rows[i].line, rows[i].column,
                              "rank " + std::to_string(static_cast<std::int64_t>(ranks_[r][i])) +
                                  " of " + whose + " leaves a gap: " +
                                  (rows.size() == 1 ? std::string("its one candidate takes rank 1")
                                                    : "its " + std::to_string(rows.size()) +
                                                          " candidates take ranks 1 to " +
                                                          std::to_string(rows.size())) +
                                  " (AC@k counts a ranking's first k)"});
      }
    }
    return problems;
  }
  std::vector<RcaRanking> take() {
    for (std::size_t r = 0; r < rankings_.size(); ++r) {
      std::vector<std::size_t> order(ranks_[r].size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return ranks_[r][a] < ranks_[r][b]; });
      std::vector<RcaCandidate> sorted;
      for (std::size_t i : order) sorted.push_back(rankings_[r].candidates[i]);
      rankings_[r].candidates = std::move(sorted);
    }
    return std::move(rankings_);
  }

 private:
  std::map<std::tuple<std::string, SimTime, std::int64_t>, std::size_t> index_;
  std::map<std::tuple<std::string, SimTime, std::int64_t, double>, int> given_ranks_;
  std::vector<RcaRanking> rankings_;
  std::vector<std::vector<double>> ranks_;
  std::vector<int> lines_;
  struct Given {
    bool given = false;
    int line = 0, column = 0;  // of the rank
    int candidate_column = 1;
  };
  std::vector<std::vector<Given>> given_;  // per ranking, per candidate
};

std::vector<RcaRanking> read_csv(const std::string& path, const std::string& text,
                                 const Known* known) {
  const CsvTable table = parse_csv(text, path);
  std::map<std::string, std::size_t> column;
  std::vector<Diagnostic> problems;
  static const std::vector<std::string> kKnown = {"incident_id", "candidate", "rank", "ranker",
                                                  "delay_s"};
  for (std::size_t c = 0; c < table.header.fields.size(); ++c) {
    const CsvField& name = table.header.fields[c];
    const auto [at, added] = column.emplace(name.text, c);
    // A column read twice: which one counts is not said (other columns are ignored).
    if (!added && std::find(kKnown.begin(), kKnown.end(), name.text) != kKnown.end())
      problems.push_back({path, table.header.line, name.column,
                          "the header names `" + name.text + "` twice (columns " +
                              std::to_string(at->second + 1) + " and " + std::to_string(c + 1) +
                              ")"});
  }
  for (const char* needed : {"incident_id", "candidate"})
    if (!column.count(needed))
      problems.push_back({path, table.header.line, 1,
                          std::string("the header has no `") + needed +
                              "` column (incident_id, candidate; optional rank, ranker, delay_s)"});
  if (!problems.empty()) throw InputError(std::move(problems));
  const auto field = [&](const CsvRow& row, const char* name) -> const CsvField* {
    const auto found = column.find(name);
    return found != column.end() && found->second < row.fields.size() ? &row.fields[found->second]
                                                                      : nullptr;
  };
  Collector rankings;
  // Rankings with a row left out for its problems, and whether a row's ranking could not be
  // told (its incident or delay unreadable): their ranks are not checked (a gap would be the
  // left-out row's).
  std::set<Collector::Key> spoiled;
  bool ranking_unknown = false;
  for (const CsvRow& row : table.rows) {
    try {
      require_fields(table, row, std::max(column["incident_id"], column["candidate"]) + 1);
      std::vector<Diagnostic> row_problems;
      const auto row_problem = [&](const CsvField* at, const std::string& message) {
        if (!message.empty()) row_problems.push_back({path, row.line, at->column, message});
      };
      // A field that is not a number is said with the row's other problems.
      const auto number_or_said = [&](const char* name) -> std::optional<double> {
        try {
          return number_field(table, row, column[name]);
        } catch (const InputError& error) {
          row_problems.insert(row_problems.end(), error.diagnostics().begin(),
                              error.diagnostics().end());
          return std::nullopt;
        }
      };
      const CsvField* incident_field = field(row, "incident_id");
      std::optional<double> incident = number_or_said("incident_id");
      if (incident && (*incident < 0 || *incident != std::floor(*incident) || *incident > 9e18)) {
        row_problem(incident_field, "incident_id must be a whole number >= 0");
        incident.reset();
      }
      if (incident)
        row_problem(incident_field, incident_problem(known, static_cast<std::int64_t>(*incident)));
      double rank = static_cast<double>(row.line);
      if (const CsvField* r = field(row, "rank"); r && !r->text.empty()) {
        const std::optional<double> given = number_or_said("rank");
        rank = given.value_or(1);
        if (given && (rank < 1 || rank != std::floor(rank)))
          row_problem(r, "rank must be a whole number >= 1 (1 first)");
      }
      std::optional<SimTime> delay = 0;
      if (const CsvField* d = field(row, "delay_s"); d && !d->text.empty()) {
        const std::optional<double> given = number_or_said("delay_s");
        delay = given ? delay_of(*given) : std::nullopt;
        if (given && !delay) row_problem(d, kDelayRule);
      }
      const CsvField* ranker = field(row, "ranker");
      const std::string ranker_name = ranker && !ranker->text.empty() ? ranker->text : "external";
      const CsvField* candidate = field(row, "candidate");
      if (candidate->text.empty())
        row_problem(candidate, "empty candidate");
      else
        row_problem(candidate, candidate_problem(known, candidate->text));
      if (!incident || !delay) {
        ranking_unknown = true;
        throw InputError(std::move(row_problems));
      }
      const Collector::Key key{ranker_name, *delay, static_cast<std::int64_t>(*incident)};
      if (!row_problems.empty()) {
        spoiled.insert(key);
        throw InputError(std::move(row_problems));
      }
      // Two candidates at one rank of one ranking: which is first is not said. The row still
      // counts in its ranking's ranks (a gap beside it is said too).
      const CsvField* rank_field = field(row, "rank");
      const bool rank_given = rank_field && !rank_field->text.empty();
      if (rank_given)
        if (const int other =
                rankings.rank_given_at(ranker_name, *delay, std::get<2>(key), rank, row.line))
          row_problem(rank_field, "rank " + rank_field->text + " of incident " +
                                      std::to_string(std::get<2>(key)) + " by " + ranker_name +
                                      " is given twice (line " + std::to_string(other) +
                                      " too): one candidate a rank");
      rankings.add(ranker_name, *delay, std::get<2>(key), rank, candidate->text, rank_given,
                   row.line, rank_field ? rank_field->column : 1, candidate->column);
      if (!row_problems.empty()) throw InputError(std::move(row_problems));
    } catch (const InputError& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
    }
  }
  // A candidate named twice among the rows kept is said whatever the other rows' problems.
  if (!ranking_unknown)
    for (Diagnostic& d : rankings.rank_problems(path, spoiled)) problems.push_back(std::move(d));
  for (Diagnostic& d : rankings.duplicate_problems(path)) problems.push_back(std::move(d));
  if (!problems.empty()) throw InputError(by_position(std::move(problems), path));
  return rankings.take();
}

std::vector<RcaRanking> read_json_lines(const std::string& path, const std::string& text,
                                        const Known* known) {
  Collector rankings;
  std::vector<Diagnostic> problems;
  int line = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    ++line;
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string row = text.substr(begin, end - begin);
    begin = end + 1;
    if (row.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json json;
    std::string twice;
    try {
      json = parse_json_noting_repeats(row, twice);
    } catch (const nlohmann::json::parse_error& error) {
      // nlohmann's byte is the 1-based position of the character it stopped at.
      const std::size_t at =
          std::clamp<std::size_t>(error.byte, 1, std::max<std::size_t>(row.size(), 1));
      problems.push_back({path, line, static_cast<int>(at), "not JSON: a JSON object per line"});
      continue;
    }
    // Where the row says `key` (its quoted name), else where `text` is written after `from`:
    // column 1 when not found.
    const auto column_of = [&](const std::string& quoted, std::size_t from = 0) {
      const std::size_t at = row.find(quoted, from);
      return at == std::string::npos ? 1 : static_cast<int>(at) + 1;
    };
    const auto key_column = [&](const std::string& key) {
      return column_of(nlohmann::json(key).dump());
    };
    const auto problem_at = [&](int column, const std::string& message) {
      problems.push_back({path, line, column, message});
    };
    const auto problem = [&](const std::string& message) { problem_at(1, message); };
    if (!json.is_object()) {
      problem("not a JSON object");
      continue;
    }
    if (!twice.empty()) {  // which one counts is not said
      // At its second place: after the first.
      const int first = key_column(twice);
      problem_at(column_of(nlohmann::json(twice).dump(), static_cast<std::size_t>(first)),
                 "key `" + twice + "` is given twice");
      continue;
    }
    static const std::vector<std::string> kKeys = {"incident_id", "candidates", "ranker",
                                                   "delay_s"};
    // Every problem of the row is said; a row with any adds no ranking.
    const std::size_t before = problems.size();
    for (const auto& [key, value] : json.items())
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
        problem_at(key_column(key), "unknown key `" + key + "`" + did_you_mean(key, kKeys) +
                                        " (incident_id, candidates; optional ranker, delay_s)");
    const auto id = json.find("incident_id");
    const auto list = json.find("candidates");
    const bool id_ok = id != json.end() && id->is_number_integer() && id->get<std::int64_t>() >= 0;
    if (id == json.end())
      problem_at(key_column("incident_id"), "missing key `incident_id` (a whole number >= 0)");
    else if (!id_ok)
      problem_at(key_column("incident_id"), "`incident_id` must be a whole number >= 0");
    const bool list_ok = list != json.end() && list->is_array();
    if (list == json.end())
      problem_at(key_column("candidates"),
                 "missing key `candidates` (a list of strings, best first)");
    else if (!list_ok)
      problem_at(key_column("candidates"), "`candidates` must be a list of strings, best first");
    std::string ranker = "external";
    if (const auto r = json.find("ranker"); r != json.end()) {
      if (r->is_string())
        ranker = r->get<std::string>();
      else
        problem_at(key_column("ranker"), "`ranker` must be a string");
    }
    std::optional<SimTime> delay = 0;
    if (const auto d = json.find("delay_s"); d != json.end()) {
      delay = d->is_number() ? delay_of(d->get<double>()) : std::nullopt;
      if (!delay)
        problem_at(key_column("delay_s"), "`delay_s` must be a number of seconds in [0, 1e9]");
    }
    const std::int64_t incident = id_ok ? id->get<std::int64_t>() : -1;
    if (id_ok)
      if (const std::string why = incident_problem(known, incident); !why.empty())
        problem_at(key_column("incident_id"), why);
    if (list_ok) {
      // Each candidate at its text, looked for after the one before (the same text twice is
      // found twice); a value that is not a string at the list.
      const int list_column = key_column("candidates");
      std::size_t from = static_cast<std::size_t>(list_column - 1);
      for (const auto& candidate : *list) {
        const std::string written = candidate.dump();
        const int column = column_of(written, from);
        if (column > 1) from = static_cast<std::size_t>(column - 1) + written.size();
        if (!candidate.is_string() || candidate.get<std::string>().empty())
          problem_at(column > 1 ? column : list_column,
                     "every candidate must be a non-empty string");
        else if (const std::string why = candidate_problem(known, candidate.get<std::string>());
                 !why.empty())
          problem_at(column > 1 ? column : list_column, why);
      }
    }
    if (problems.size() > before) continue;
    if (const int first = rankings.opened_at(ranker, *delay, incident); first > 0) {
      problem_at(key_column("incident_id"),
                 "a second ranking of incident " + std::to_string(incident) + " by " + ranker +
                     " at delay_s " + format_duration(*delay) + " (the first is at line " +
                     std::to_string(first) + ")");
      continue;
    }
    rankings.open(ranker, *delay, incident, line);
    double rank = 0;
    std::size_t from = static_cast<std::size_t>(key_column("candidates") - 1);
    for (const auto& candidate : *list) {
      const std::string written = candidate.dump();
      const int column = column_of(written, from);
      if (column > 1) from = static_cast<std::size_t>(column - 1) + written.size();
      rankings.add(ranker, *delay, incident, ++rank, candidate.get<std::string>(), false, line, 0,
                   column);
    }
  }
  // A kept ranking's candidate named twice, whatever the other rows' problems.
  for (Diagnostic& d : rankings.duplicate_problems(path)) problems.push_back(std::move(d));
  if (!problems.empty()) throw InputError(by_position(std::move(problems), path));
  return rankings.take();
}

}  // namespace

namespace {

std::vector<RcaRanking> read_rankings(const std::string& path, const Known* known) {
  const std::string text = read_input_text(path, kMaxCsvBytes);
  const std::size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  // JSON lines: an object a line ('[' too: a list where an object belongs is said as such).
  if (first != std::string::npos && (text[first] == '{' || text[first] == '['))
    return read_json_lines(path, text, known);
  return read_csv(path, text, known);
}

}  // namespace

std::vector<RcaRanking> read_rankings_file(const std::string& path) {
  return read_rankings(path, nullptr);
}

std::vector<RcaRanking> read_rankings_file(const std::string& path, const RcaSystem& system,
                                           const std::vector<IncidentRecord>& incidents,
                                           const std::string& trace_path) {
  const Known known = known_of(system, incidents, trace_path);
  return read_rankings(path, &known);
}

}  // namespace dosim
