#include "dosim/analysis/metrics_export.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>

#include "exposition.h"

namespace dosim {
namespace {

constexpr double kZ95 = 1.6448536269514722, kZ99 = 2.3263478740408408;

using exposition::label_text;
using exposition::Labels;
using exposition::number;
using exposition::sample;

// Where row r's interval begins: the previous row's end (a run's last row may be shorter
// than the record interval, docs/trace-format.md), the interval before the first's end.
SimTime row_begin(const std::vector<SimTime>& times, SimTime record_interval, std::size_t r) {
  return r > 0 ? times[r - 1] : std::max<SimTime>(0, times[0] - record_interval);
}

// Seconds with millisecond precision (Prometheus keeps milliseconds).
std::string timestamp(double start, SimTime t) {
  const std::int64_t ms = static_cast<std::int64_t>(std::llround(start * 1000.0)) + t / 1'000'000;
  const std::int64_t whole = ms / 1000, frac = ms % 1000;
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%lld.%03lld", static_cast<long long>(whole),
                static_cast<long long>(frac < 0 ? -frac : frac));
  return buffer;
}

// Seconds to the nanosecond, for a CSV of a trace recorded finer than a millisecond (three
// decimals made rows share a timestamp).
std::string timestamp_ns(double start, SimTime t) {
  const double whole_start = std::floor(start);
  std::int64_t whole = static_cast<std::int64_t>(whole_start) + t / 1'000'000'000;
  std::int64_t nanos = std::llround((start - whole_start) * 1e9) + t % 1'000'000'000;
  whole += nanos / 1'000'000'000;
  nanos %= 1'000'000'000;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld.%09lld", static_cast<long long>(whole),
                static_cast<long long>(nanos));
  return buffer;
}

// Simulated seconds in decimal notation ("0.0005", not "5e-04"), shortest to round-trip.
std::string seconds_fixed(SimTime t) {
  char buffer[48];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, static_cast<double>(t) / 1e9,
                                       std::chars_format::fixed);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

std::string sanitized(std::string_view name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  return out;
}

// One exported column of a family: its labels.
struct Column {
  Labels labels;
};

std::vector<Column> columns_of(const TraceSeries& t, const std::string& family) {
  std::vector<Column> out;
  if (family == "service")
    for (std::size_t s = 0; s < t.services.size(); ++s)
      out.push_back({{{"service", t.services[s]}, {"zone", t.service_zones[s]}}});
  else if (family == "edge")
    for (std::size_t e = 0; e < t.edge_callers.size(); ++e)
      out.push_back({{{"caller", t.edge_callers[e]}, {"callee", t.edge_callees[e]}}});
  else if (family == "endpoint")
    for (std::size_t p = 0; p < t.endpoint_names.size(); ++p)
      out.push_back({{{"service", t.endpoint_services[p]}, {"endpoint", t.endpoint_names[p]}}});
  else if (family == "route")
    for (std::size_t q = 0; q < t.route_traffic.size(); ++q)
      out.push_back({{{"traffic", t.route_traffic[q]}, {"region", t.route_regions[q]}}});
  else
    for (std::size_t z = 0; z < t.zone_names.size(); ++z)
      out.push_back({{{"service", t.zone_services[z]},
                      {"zone", t.zone_names[z]},
                      {"region", t.zone_regions[z]}}});
  return out;
}

const std::vector<std::pair<std::string, const SeriesFamily TraceSeries::*>> kFamilies = {
    {"service", &TraceSeries::service},
    {"edge", &TraceSeries::edge},
    {"endpoint", &TraceSeries::endpoint},
    {"zone", &TraceSeries::zone},
    {"route", &TraceSeries::route}};

// The index of `name` among a family's metrics, or -1.
int metric_index(const SeriesFamily& family, std::string_view name) {
  for (std::size_t m = 0; m < family.metric_names.size(); ++m)
    if (family.metric_names[m] == name) return static_cast<int>(m);
  return -1;
}

double standard_normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

std::string exported_gauge_name(const std::string& gauge) { return "lab7_" + sanitized(gauge); }

std::string exported_metric_name(const std::string& family, const std::string& metric) {
  std::string name = metric;
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "_s") == 0)
    name = name.substr(0, name.size() - 2) + "_seconds";
  return "dosim_" + family + "_" + sanitized(name);
}

double latency_mean_estimate(double p50, double p95) {
  if (!(p50 > 0)) return 0.0;
  const double sigma = std::max(0.0, std::log(std::max(p95, p50) / p50)) / kZ95;
  return p50 * std::exp(0.5 * sigma * sigma);
}

double latency_share_below(double p50, double p95, double p99, double x) {
  if (!(x > 0)) return 0.0;
  if (!(p50 > 0) || !(p99 > p50)) return x >= p50 ? 1.0 : 0.0;
  const double l50 = std::log(p50), l95 = std::log(std::max(p95, p50)),
               l99 = std::log(std::max(p99, p95));
  const double lx = std::log(x);
  const double low_slope = (l95 - l50) / kZ95, high_slope = (l99 - l95) / (kZ99 - kZ95);
  double z;
  if (lx <= l95) {
    if (!(low_slope > 0)) return lx >= l50 ? standard_normal_cdf(kZ95) : 0.0;
    z = (lx - l50) / low_slope;
  } else {
    if (!(high_slope > 0)) return 1.0;
    z = kZ95 + (lx - l95) / high_slope;
  }
  return standard_normal_cdf(z);
}

void write_openmetrics(const TraceSeries& t, double start, std::ostream& out) {
  const std::size_t rows = t.times.size();
  const auto gauge_family = [&](const std::string& name, const std::string& help,
                                const std::string& unit) {
    out << "# TYPE " << name << " gauge\n";
    if (!unit.empty()) out << "# UNIT " << name << " " << unit << "\n";
    out << "# HELP " << name << " " << help << "\n";
  };
  for (const auto& [family, member] : kFamilies) {
    const SeriesFamily& f = t.*member;
    if (f.columns == 0) continue;  // no such series in this run
    const std::vector<Column> columns = columns_of(t, family);
    for (std::size_t m = 0; m < f.metric_names.size(); ++m) {
      const std::string name = exported_metric_name(family, f.metric_names[m]);
      const bool seconds = name.ends_with("_seconds");
      gauge_family(name,
                   "dosim " + family + " metric " + f.metric_names[m] + ", per record interval",
                   seconds ? "seconds" : "");
      for (std::size_t c = 0; c < f.columns; ++c) {
        const std::string labels = label_text(columns[c].labels);
        for (std::size_t r = 0; r < rows; ++r)
          out << name << labels << " " << sample(f.metrics[m][r * f.columns + c]) << " "
              << timestamp(start, t.times[r]) << "\n";
      }
    }
    // The latency as a histogram: each row's requests (rps x interval) spread over the
    // buckets by the row's p50, p95 and p99; cumulative, as a counter is.
    const int rps = metric_index(f, "rps"), p50 = metric_index(f, "latency_p50_s"),
              p95 = metric_index(f, "latency_p95_s"), p99 = metric_index(f, "latency_p99_s"),
              mean = metric_index(f, "latency_mean_s");
    if (rps < 0 || p50 < 0 || p95 < 0 || p99 < 0) continue;
    const std::string name = "dosim_" + family + "_latency_seconds";
    out << "# TYPE " << name << " histogram\n# UNIT " << name << " seconds\n# HELP " << name
        << " dosim " << family
        << " latency, rebuilt from each record interval's p50, p95 and p99 (docs/prometheus.md)\n";
    constexpr std::size_t kBuckets = std::size(kLatencyBuckets);
    for (std::size_t c = 0; c < f.columns; ++c) {
      const Labels base = columns[c].labels;
      std::vector<double> below(kBuckets, 0.0);
      double count = 0, sum = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        const auto at = [&](int metric) {
          return static_cast<double>(f.metrics[metric][r * f.columns + c]);
        };
        // Its requests: the row's rate over the row's own span (a last row of 30 s of a 1 m
        // record counted 60 s).
        const double interval =
            static_cast<double>(t.times[r] - row_begin(t.times, t.record_interval, r)) / 1e9;
        const double n = std::max(0.0, at(rps)) * interval;
        if (n > 0 && std::isfinite(n)) {
          for (std::size_t b = 0; b < kBuckets; ++b)
            below[b] += n * latency_share_below(at(p50), at(p95), at(p99), kLatencyBuckets[b]);
          count += n;
          sum += n * (mean >= 0 ? at(mean) : latency_mean_estimate(at(p50), at(p95)));
        }
        const std::string when = timestamp(start, t.times[r]);
        // Rounded counts stay non-decreasing in le and in time (rounding is monotone).
        for (std::size_t b = 0; b < kBuckets; ++b) {
          Labels labels = base;
          labels.emplace_back("le", number(kLatencyBuckets[b]));
          out << name << "_bucket" << label_text(labels) << " "
              << std::llround(std::min(below[b], count)) << " " << when << "\n";
        }
        Labels labels = base;
        labels.emplace_back("le", "+Inf");
        out << name << "_bucket" << label_text(labels) << " " << std::llround(count) << " " << when
            << "\n";
        out << name << "_count" << label_text(base) << " " << std::llround(count) << " " << when
            << "\n";
        out << name << "_sum" << label_text(base) << " " << number(sum) << " " << when << "\n";
      }
    }
  }
  if (!t.detectors.empty()) {
    gauge_family("dosim_detector_score", "a detector's highest score over the record interval", "");
    for (const DetectorSeries& d : t.detectors)
      for (std::size_t w = 0; w < d.labels.size(); ++w) {
        const std::string labels = label_text({{"detector", d.name},
                                               {"service", d.services[w]},
                                               {"metric", d.metrics[w]},
                                               {"series", d.labels[w]}});
        for (std::size_t r = 0; r < rows; ++r)
          out << "dosim_detector_score" << labels << " "
              << sample(d.scores[r * d.labels.size() + w]) << " " << timestamp(start, t.times[r])
              << "\n";
      }
    // The Lab 7 monitor's gauges under the lab's names: lab7_<caller>_to_<callee>_<kind>.
    std::map<std::string, std::vector<std::pair<const DetectorSeries*, std::size_t>>> gauges;
    for (const DetectorSeries& d : t.detectors)
      for (std::size_t g = 0; g < d.gauge_names.size(); ++g)
        gauges[exported_gauge_name(d.gauge_names[g])].emplace_back(&d, g);
    for (const auto& [name, sources] : gauges) {
      gauge_family(name, "the Lab 7 monitor's gauge, value at the record interval's last tick", "");
      for (const auto& [d, g] : sources) {
        const std::string labels = label_text({{"detector", d->name}});
        for (std::size_t r = 0; r < rows; ++r)
          out << name << labels << " " << sample(d->gauges[g][r]) << " "
              << timestamp(start, t.times[r]) << "\n";
      }
    }
  }
  if (!t.incidents.empty()) {
    out << "# TYPE dosim_incident info\n# HELP dosim_incident an injected cause of the ground "
           "truth\n";
    const auto labels_of = [](const IncidentWindow& i) {
      return label_text({{"incident", std::to_string(i.id)},
                         {"name", i.name},
                         {"cause", i.cause},
                         {"root_cause", i.root_cause},
                         {"silent", i.silent ? "true" : "false"}});
    };
    for (const IncidentWindow& i : t.incidents)
      for (std::size_t r = 0; r < rows; ++r)
        out << "dosim_incident_info" << labels_of(i) << " 1 " << timestamp(start, t.times[r])
            << "\n";
    gauge_family("dosim_incident_impacting",
                 "1 while the incident's impact window overlaps the record interval", "");
    for (const IncidentWindow& i : t.incidents)
      for (std::size_t r = 0; r < rows; ++r) {
        const SimTime end = t.times[r], begin = row_begin(t.times, t.record_interval, r);
        const bool on = !i.silent && i.impact_start < end && i.impact_end > begin;
        out << "dosim_incident_impacting" << labels_of(i) << " " << (on ? 1 : 0) << " "
            << timestamp(start, t.times[r]) << "\n";
      }
  }
  if (!t.changes.empty()) {
    // One series per (kind, target): 1 at the interval holding a change, 0 at the next, so
    // that a query between them reads no change.
    std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> rows_of;
    for (const ChangeMark& change : t.changes) {
      const auto row = std::lower_bound(t.times.begin(), t.times.end(), change.time + 1);
      if (row == t.times.end()) continue;  // after the last row
      rows_of[{change.kind, change.target}].push_back(
          static_cast<std::size_t>(row - t.times.begin()));
    }
    gauge_family("dosim_change",
                 "1 in the record interval of an operation (deployment, config, flag, scale, ...)",
                 "");
    for (auto& [key, marked] : rows_of) {
      std::sort(marked.begin(), marked.end());
      marked.erase(std::unique(marked.begin(), marked.end()), marked.end());
      const std::string labels = label_text({{"kind", key.first}, {"target", key.second}});
      for (std::size_t i = 0; i < marked.size(); ++i) {
        out << "dosim_change" << labels << " 1 " << timestamp(start, t.times[marked[i]]) << "\n";
        const std::size_t next = marked[i] + 1;
        if (next < rows && (i + 1 == marked.size() || marked[i + 1] != next))
          out << "dosim_change" << labels << " 0 " << timestamp(start, t.times[next]) << "\n";
      }
    }
  }
  if (!t.detected.empty()) {
    gauge_family("dosim_incident_detected",
                 "an incident rule's open incident: its severity (1-3) while open, else 0", "");
    std::map<std::string, std::vector<const DetectedWindow*>> by_rule;
    for (const DetectedWindow& d : t.detected) by_rule[d.rule].push_back(&d);
    for (const auto& [rule, windows] : by_rule) {
      const std::string labels = label_text({{"rule", rule}});
      for (std::size_t r = 0; r < rows; ++r) {
        const SimTime end = t.times[r], begin = row_begin(t.times, t.record_interval, r);
        int severity = 0;
        for (const DetectedWindow* d : windows)
          if (d->start < end && (d->end < 0 || d->end > begin))
            severity = severity == 0 ? d->severity : std::min(severity, d->severity);
        out << "dosim_incident_detected" << labels << " " << severity << " "
            << timestamp(start, t.times[r]) << "\n";
      }
    }
  }
  out << "# EOF\n";
}

void write_metrics_csv(const TraceSeries& t, double start, std::ostream& out) {
  const auto field = [](const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  };
  const bool wall = start >= 0;
  // Milliseconds as OpenMetrics writes them, unless a row falls between two.
  const bool fine = std::any_of(t.times.begin(), t.times.end(),
                                [](SimTime time) { return time % 1'000'000 != 0; });
  out << "time_s" << (wall ? ",timestamp" : "")
      << ",metric,service,endpoint,caller,callee,zone,region,traffic,detector,series,value\n";
  const std::vector<std::string> keys = {"service", "endpoint", "caller",   "callee", "zone",
                                         "region",  "traffic",  "detector", "series"};
  const auto line = [&](std::size_t r, const std::string& metric, const Labels& labels,
                        float value) {
    out << seconds_fixed(t.times[r]);
    if (wall) out << "," << (fine ? timestamp_ns(start, t.times[r]) : timestamp(start, t.times[r]));
    out << "," << metric;
    for (const std::string& key : keys) {
      std::string value_of;
      for (const auto& [name, v] : labels)
        if (name == key) value_of = v;
      out << "," << field(value_of);
    }
    out << "," << sample(value) << "\n";
  };
  for (std::size_t r = 0; r < t.times.size(); ++r) {
    for (const auto& [family, member] : kFamilies) {
      const SeriesFamily& f = t.*member;
      const std::vector<Column> columns = columns_of(t, family);
      for (std::size_t m = 0; m < f.metric_names.size(); ++m) {
        const std::string name = exported_metric_name(family, f.metric_names[m]);
        for (std::size_t c = 0; c < f.columns; ++c)
          line(r, name, columns[c].labels, f.metrics[m][r * f.columns + c]);
      }
    }
    for (const DetectorSeries& d : t.detectors) {
      for (std::size_t w = 0; w < d.labels.size(); ++w)
        line(r, "dosim_detector_score",
             {{"detector", d.name},
              {"service", d.services[w]},
              {"series", d.labels[w] + " " + d.metrics[w]}},
             d.scores[r * d.labels.size() + w]);
      for (std::size_t g = 0; g < d.gauge_names.size(); ++g)
        line(r, "lab7_" + sanitized(d.gauge_names[g]), {{"detector", d.name}}, d.gauges[g][r]);
    }
  }
}

}  // namespace dosim
