// Rankings made elsewhere, read for `dosim score --rca` (dosim/analysis/root_cause.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "dosim/analysis/root_cause.h"
#include "dosim/error.h"
#include "util/csv.h"
#include "util/input_file.h"

namespace dosim {
namespace {

std::string candidate_id(std::string text) {
  if (text.rfind("service:", 0) == 0 || text.rfind("edge:", 0) == 0 ||
      text.rfind("change:", 0) == 0)
    return text;
  return "service:" + text;
}

// Rankings keyed by (ranker, delay, incident) in order of first appearance.
class Collector {
 public:
  // The ranking of (ranker, delay, incident), made empty on first use.
  std::size_t open(const std::string& ranker, SimTime delay, std::int64_t incident) {
    const auto key = std::make_tuple(ranker, delay, incident);
    auto found = index_.find(key);
    if (found == index_.end()) {
      found = index_.emplace(key, rankings_.size()).first;
      rankings_.push_back({incident, ranker, delay, -1, {}});
      ranks_.emplace_back();
    }
    return found->second;
  }
  void add(const std::string& ranker, SimTime delay, std::int64_t incident, double rank,
           std::string candidate) {
    const std::size_t r = open(ranker, delay, incident);
    ranks_[r].push_back(rank);
    rankings_[r].candidates.push_back({candidate_id(std::move(candidate)), 0});
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
  std::vector<RcaRanking> rankings_;
  std::vector<std::vector<double>> ranks_;
};

std::vector<RcaRanking> read_csv(const std::string& path, const std::string& text) {
  const CsvTable table = parse_csv(text, path);
  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < table.header.fields.size(); ++c)
    column.emplace(table.header.fields[c].text, c);
  std::vector<Diagnostic> problems;
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
  for (const CsvRow& row : table.rows) {
    try {
      require_fields(table, row, std::max(column["incident_id"], column["candidate"]) + 1);
      const double incident = number_field(table, row, column["incident_id"]);
      if (incident < 0 || incident != std::floor(incident))
        throw InputError({{path, row.line, field(row, "incident_id")->column,
                           "incident_id must be a whole number >= 0"}});
      double rank = static_cast<double>(row.line);
      if (const CsvField* r = field(row, "rank"); r && !r->text.empty())
        rank = number_field(table, row, column["rank"]);
      double delay = 0;
      if (const CsvField* d = field(row, "delay_s"); d && !d->text.empty())
        delay = number_field(table, row, column["delay_s"]);
      const CsvField* ranker = field(row, "ranker");
      const CsvField* candidate = field(row, "candidate");
      if (candidate->text.empty())
        throw InputError({{path, row.line, candidate->column, "empty candidate"}});
      rankings.add(ranker && !ranker->text.empty() ? ranker->text : "external",
                   static_cast<SimTime>(std::llround(delay * 1e9)),
                   static_cast<std::int64_t>(incident), rank, candidate->text);
    } catch (const InputError& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return rankings.take();
}

std::vector<RcaRanking> read_json_lines(const std::string& path, const std::string& text) {
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
    const nlohmann::json json = nlohmann::json::parse(row, nullptr, false);
    const auto problem = [&](const std::string& message) {
      problems.push_back({path, line, 1, message});
    };
    if (!json.is_object()) {
      problem("not a JSON object");
      continue;
    }
    const auto id = json.find("incident_id");
    const auto list = json.find("candidates");
    if (id == json.end() || !id->is_number_integer() || id->get<std::int64_t>() < 0) {
      problem("`incident_id` must be a whole number >= 0");
      continue;
    }
    if (list == json.end() || !list->is_array()) {
      problem("`candidates` must be a list of strings, best first");
      continue;
    }
    std::string ranker = "external";
    if (const auto r = json.find("ranker"); r != json.end()) {
      if (!r->is_string()) {
        problem("`ranker` must be a string");
        continue;
      }
      ranker = r->get<std::string>();
    }
    double delay = 0;
    if (const auto d = json.find("delay_s"); d != json.end()) {
      if (!d->is_number() || !std::isfinite(d->get<double>())) {
        problem("`delay_s` must be a number");
        continue;
      }
      delay = d->get<double>();
    }
    rankings.open(ranker, static_cast<SimTime>(std::llround(delay * 1e9)), id->get<std::int64_t>());
    double rank = 0;
    for (const auto& candidate : *list) {
      if (!candidate.is_string() || candidate.get<std::string>().empty()) {
        problem("every candidate must be a non-empty string");
        break;
      }
      rankings.add(ranker, static_cast<SimTime>(std::llround(delay * 1e9)), id->get<std::int64_t>(),
                   ++rank, candidate.get<std::string>());
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return rankings.take();
}

}  // namespace

std::vector<RcaRanking> read_rankings_file(const std::string& path) {
  const std::string text = read_input_text(path, kMaxCsvBytes);
  const std::size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && text[first] == '{') return read_json_lines(path, text);
  return read_csv(path, text);
}

}  // namespace dosim
