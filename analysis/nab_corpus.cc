#include "analysis/nab_corpus.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "analysis/nab_results_file.h"
#include "dosim/error.h"
#include "util/csv.h"
#include "util/input_file.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& file, int line, int column, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, line, column, message}});
}

[[noreturn]] void fail(const std::string& file, const std::string& message) {
  throw InputError(file, message);
}

std::string read_text(const std::string& path, const std::string& what) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) fail(path, "no " + what + " (file not found)");
  std::string reason;
  std::optional<std::string> text = read_input_file(path, kMaxCsvBytes, reason);
  if (!text) fail(path, std::string("cannot read ") + what + ": " + reason);
  return std::move(*text);
}

// A key given twice in one object is refused: JSON parsers keep one of the two values, and
// a windows file naming a data file twice lost the first one's windows silently.
Json read_json(const std::string& path, const std::string& what) {
  const std::string text = read_text(path, what);
  std::vector<std::vector<std::string>> keys;  // the keys of each object open, innermost last
  std::vector<Diagnostic> twice;
  const auto check = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == Json::parse_event_t::key && !keys.empty()) {
      const std::string key = parsed.get<std::string>();
      std::vector<std::string>& seen = keys.back();
      if (std::find(seen.begin(), seen.end(), key) != seen.end())
        twice.push_back({path, 0, 0, "key `" + key + "` given twice in one object"});
      else
        seen.push_back(key);
    }
    return true;
  };
  try {
    Json json = Json::parse(text, check);
    if (!twice.empty()) throw InputError(std::move(twice));
    return json;
  } catch (const Json::parse_error& error) {
    fail(path, std::string("not valid JSON: ") + error.what());
  }
}

// The rows of a CSV file: timestamps always, anomaly scores when `want_scores`.
struct CsvColumns {
  std::vector<std::int64_t> timestamps;
  std::vector<int> lines;  // the line of each row, for messages
  std::vector<double> scores;
};

CsvColumns read_csv(const std::string& path, const std::string& what, bool want_scores) {
  const CsvTable table = parse_csv(read_text(path, what), path);
  const std::vector<CsvField>& header = table.header.fields;
  auto find = [&](std::string_view name) -> std::size_t {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i].text == name) return i;
    fail(path, table.header.line, 1, "no `" + std::string(name) + "` column in the header");
  };
  const std::size_t timestamp_column = find("timestamp");
  const std::size_t score_column = want_scores ? find("anomaly_score") : 0;
  std::size_t value_column = header.size();
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i].text == "value") value_column = i;
  // A data file's row needs its value too (a row of a timestamp alone was said only when it
  // was the file's one problem, by the replay that reads the values).
  std::size_t needed = std::max(timestamp_column, score_column) + 1;
  if (!want_scores && value_column < header.size()) needed = std::max(needed, value_column + 1);
  CsvColumns result;
  // Every bad row, as the replay reader says them (RowProblems).
  RowProblems bad_rows;
  const auto problem = [&](int line, int column, const std::string& message) {
    bad_rows.add({path, line, column, message});
  };
  for (const CsvRow& row : table.rows) {
    try {
      require_fields(table, row, needed);
    } catch (const InputError& error) {
      for (const Diagnostic& d : error.diagnostics()) problem(d.line, d.column, d.message);
      continue;
    }
    const CsvField& stamp = row.fields[timestamp_column];
    const std::optional<std::int64_t> time = parse_nab_timestamp(stamp.text);
    if (!time)
      problem(stamp.line, stamp.column,
              "bad timestamp `" + stamp.text +
                  "` (expected a date as NAB writes them, YYYY-MM-DD HH:MM:SS; Unix time is "
                  "not NAB's)");
    // A data file's values are read where they are replayed (dosim nab run): checked here
    // too, so that a bad value is said with the bad timestamps, all at once.
    if (!want_scores && value_column < row.fields.size()) try {
        number_field(table, row, value_column);
      } catch (const InputError& error) {
        for (const Diagnostic& d : error.diagnostics()) problem(d.line, d.column, d.message);
      }
    std::optional<double> score;
    if (want_scores) {
      const CsvField& field = row.fields[score_column];
      score = parse_number(field.text);
      if (!score)
        problem(field.line, field.column,
                "bad anomaly_score `" + field.text + "` (expected a finite number)");
    }
    if (!time || (want_scores && !score)) continue;
    result.timestamps.push_back(*time);
    result.lines.push_back(row.line);
    if (want_scores) result.scores.push_back(*score);
  }
  if (std::vector<Diagnostic> problems = bad_rows.take(); !problems.empty())
    throw InputError(std::move(problems));
  return result;
}

// One file the labels name: its data file read, its windows matched to its rows.
NabCorpusFile read_corpus_file(const std::string& root, const std::string& labels_path,
                               const std::string& relative_path, const Json& windows) {
  const std::string data_path = (fs::path(root) / "data" / relative_path).string();
  CsvColumns data = read_csv(data_path, "data file for `" + relative_path + "`", false);
  if (data.timestamps.empty()) fail(data_path, "no rows (a header alone)");
  NabCorpusFile file;
  file.relative_path = relative_path;
  file.timestamps = std::move(data.timestamps);
  std::unordered_map<std::int64_t, std::size_t> row_of;  // timestamp -> row, first match
  std::unordered_map<std::int64_t, std::size_t> matches;
  for (std::size_t i = 0; i < file.timestamps.size(); ++i) {
    row_of.emplace(file.timestamps[i], i);
    ++matches[file.timestamps[i]];
  }
  if (!windows.is_array()) fail(labels_path, "`" + relative_path + "`: expected a list");
  // Every window's problems at once, each named by its place in the list (a JSON file's
  // values have no line here).
  std::vector<Diagnostic> problems;
  const auto problem = [&](std::size_t index, const std::string& message) {
    problems.push_back(
        {labels_path, 0, 0,
         "`" + relative_path + "` window " + std::to_string(index + 1) + ": " + message});
  };
  for (std::size_t index = 0; index < windows.size(); ++index) {
    const Json& window = windows[index];
    if (!window.is_array() || window.size() != 2 || !window[0].is_string() ||
        !window[1].is_string()) {
      problem(index, "a window must be [start, end] timestamps");
      continue;
    }
    std::size_t rows[2] = {0, 0};
    bool found_both = true;
    for (int end = 0; end < 2; ++end) {
      const std::string stamp = window[end].get<std::string>();
      const std::optional<std::int64_t> time = parse_nab_timestamp(stamp);
      if (!time) {
        problem(index, std::string(end == 0 ? "start" : "end") + ": bad timestamp `" + stamp + "`");
        found_both = false;
        continue;
      }
      const auto found = matches.find(*time);
      if (found == matches.end() || found->second != 1) {
        problem(index, std::string(end == 0 ? "start" : "end") + " `" + stamp + "` matches " +
                           (found == matches.end() ? std::string("no") : "more than one") +
                           " row of " + data_path + " (NAB requires exactly one)");
        found_both = false;
        continue;
      }
      rows[end] = row_of.at(*time);
    }
    if (!found_both) continue;
    if (rows[0] > rows[1]) {
      problem(index, "ends before it starts");
      continue;
    }
    if (!file.windows.empty() && rows[0] <= file.windows.back().last_row) {
      problem(index, "overlaps the window before it or is not in time order");
      continue;
    }
    file.windows.push_back({rows[0], rows[1]});
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return file;
}

}  // namespace

std::size_t NabCorpus::window_count() const {
  std::size_t count = 0;
  for (const NabCorpusFile& file : files) count += file.windows.size();
  return count;
}

std::optional<std::int64_t> parse_nab_timestamp(std::string_view text) {
  // NAB writes dates ("2014-04-10 07:15:00[.000000]"); util/csv.h parses those (and Unix
  // time, which NAB never writes and which is refused here).
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (text.size() < 10 || text[4] != '-') return std::nullopt;
  return parse_timestamp(text);
}

NabCorpus read_nab_corpus(const std::string& root,
                          const std::function<bool(const std::string&)>& keep) {
  std::error_code error;
  if (!fs::is_directory(root, error)) fail(root, "no NAB root directory (not found)");
  NabCorpus corpus;
  corpus.root = root;

  const std::string profiles_path = (fs::path(root) / "config" / "profiles.json").string();
  const Json profiles = read_json(profiles_path, "NAB profiles");
  if (!profiles.is_object() || profiles.empty())
    fail(profiles_path, "expected an object of profiles");
  for (const auto& [name, profile] : profiles.items()) {
    const Json* costs =
        profile.is_object() && profile.contains("CostMatrix") ? &profile.at("CostMatrix") : nullptr;
    auto weight = [&, &name = name](const char* key) {
      if (costs == nullptr || !costs->is_object() || !costs->contains(key) ||
          !costs->at(key).is_number())
        fail(profiles_path, "profile `" + name + "`: no number CostMatrix." + key);
      return costs->at(key).get<double>();
    };
    corpus.profiles.push_back({name, weight("tpWeight"), weight("fpWeight"), weight("fnWeight")});
  }

  const std::string labels_path = (fs::path(root) / "labels" / "combined_windows.json").string();
  const Json labels = read_json(labels_path, "NAB windows file");
  if (!labels.is_object()) fail(labels_path, "expected an object: file -> list of windows");
  if (labels.empty()) fail(labels_path, "names no data file (expected file -> list of windows)");
  std::vector<Diagnostic> problems;  // every file's
  for (const auto& [relative_path, windows] : labels.items()) {
    if (keep && !keep(relative_path)) continue;
    try {
      corpus.files.push_back(read_corpus_file(root, labels_path, relative_path, windows));
    } catch (const InputError& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return corpus;
}

std::vector<NabFile> read_nab_results(const NabCorpus& corpus, const std::string& results_dir,
                                      const std::string& detector) {
  std::error_code error;
  const fs::path detector_dir = fs::path(results_dir) / detector;
  if (!fs::is_directory(results_dir, error)) fail(results_dir, "no results directory");
  if (!fs::is_directory(detector_dir, error)) {
    // dosim nab run --results names a detector's folder with nab_results_name (ewma:alpha=0.1
    // in ewma_alpha_0.1); else the closest folder there.
    std::string hint;
    if (const std::string named = nab_results_name(detector);
        named != detector && fs::is_directory(fs::path(results_dir) / named, error))
      hint = named;
    else {
      std::vector<std::string> folders;
      for (const fs::directory_entry& entry : fs::directory_iterator(results_dir, error))
        if (entry.is_directory(error)) folders.push_back(entry.path().filename().string());
      std::sort(folders.begin(), folders.end());
      hint = closest_match(detector, folders);
    }
    fail(detector_dir.string(),
         "no results directory for detector `" + detector + "`" +
             (hint.empty() ? std::string() : " (did you mean `" + hint + "`?)"));
  }
  std::vector<NabFile> files;
  files.reserve(corpus.files.size());
  // Every file's problems at once, as nab run says a corpus's (the first stopped it).
  std::vector<Diagnostic> problems;
  for (const NabCorpusFile& data : corpus.files) {
    const fs::path relative(data.relative_path);
    const std::string path =
        (detector_dir / relative.parent_path() / (detector + "_" + relative.filename().string()))
            .string();
    try {
      CsvColumns results = read_csv(path, "results file for `" + data.relative_path + "`", true);
      if (results.timestamps.size() != data.timestamps.size())
        fail(path, std::to_string(results.timestamps.size()) + " rows, the data file has " +
                       std::to_string(data.timestamps.size()));
      RowProblems differing;  // every row, as a data file's bad rows are said
      for (std::size_t i = 0; i < results.timestamps.size(); ++i)
        if (results.timestamps[i] != data.timestamps[i])
          differing.add(
              {path, results.lines[i], 1,
               "timestamp differs from row " + std::to_string(i + 1) + " of the data file"});
      if (std::vector<Diagnostic> rows = differing.take(); !rows.empty())
        throw InputError(std::move(rows));
      files.push_back({data.relative_path, data.windows, std::move(results.scores)});
    } catch (const InputError& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return files;
}

std::vector<NabThreshold> read_nab_thresholds(const std::string& root,
                                              const std::string& detector) {
  const std::string path = (fs::path(root) / "config" / "thresholds.json").string();
  const Json thresholds = read_json(path, "NAB thresholds file");
  if (!thresholds.is_object()) fail(path, "expected an object: detector -> profiles");
  if (!thresholds.contains(detector)) {
    std::vector<std::string> names;
    for (const auto& [name, value] : thresholds.items()) names.push_back(name);
    const std::string suggestion = closest_match(detector, names);
    fail(path, "no thresholds for detector `" + detector + "`" +
                   (suggestion.empty() ? std::string() : " (did you mean `" + suggestion + "`?)") +
                   ": NAB's own entries have theirs; --optimize finds a detector's best");
  }
  const Json& profiles = thresholds.at(detector);
  if (!profiles.is_object()) fail(path, "`" + detector + "`: expected an object of profiles");
  std::vector<NabThreshold> result;
  for (const auto& [profile, entry] : profiles.items()) {
    if (!entry.is_object() || !entry.contains("threshold") || !entry.at("threshold").is_number())
      fail(path, "`" + detector + "." + profile + "`: no number `threshold`");
    NabThreshold threshold{profile, entry.at("threshold").get<double>(), 0.0};
    if (entry.contains("score") && entry.at("score").is_number())
      threshold.score = entry.at("score").get<double>();
    result.push_back(threshold);
  }
  return result;
}

}  // namespace dosim
