#include "score_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dosim/analysis/scoring.h"

namespace dosim::cli {
namespace {

// A duration for the table: whole seconds from 1 s up, whole milliseconds below.
std::string short_duration(SimTime t) {
  if (t < 0) return "-";
  if (t >= kSecond) return format_duration((t + kSecond / 2) / kSecond * kSecond);
  return format_duration((t + kMillisecond / 2) / kMillisecond * kMillisecond);
}

// The first column is 22 wide, wider where a name is longer ("random (ErrorsEverywhere)").
int label_width(const std::vector<std::pair<std::string, Scores>>& rows) {
  std::size_t width = 22;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  return static_cast<int>(width);
}

void print_header(const char* first, int width) {
  std::printf("    %-*s %6s %8s %9s %7s %5s  %-10s %-10s %7s %8s\n", width, first, "alerts",
              "false/h", "precision", "recall", "F1", "TTD p50", "TTD p90", "NAB std", "range F1");
}

void print_row(const std::string& label, const Scores& s, int width) {
  std::printf("    %-*s %6zu %8.2f %9.2f %7.2f %5.2f  %-10s %-10s %7.1f %8.2f\n", width,
              label.c_str(), s.alerts, s.false_alarms_per_hour, s.precision, s.recall, s.f1,
              s.time_to_detect.count ? short_duration(s.time_to_detect.median).c_str() : "-",
              s.time_to_detect.count ? short_duration(s.time_to_detect.p90).c_str() : "-",
              // -0.03 is 0.0, not "-0.0"
              std::abs(s.time.nab_standard) < 0.05 ? 0.0 : s.time.nab_standard, s.time.range_f1);
}

}  // namespace

void print_alertmanager_lines(const AlertmanagerSummary& s) {
  std::printf("  alertmanager %zu raw alerts -> %zu notifications", s.raw_alerts, s.notifications);
  if (s.resolutions > 0) std::printf(", %zu of them resolutions", s.resolutions);
  std::printf(" (alert reduction %.0f%%); %zu inhibited, %zu deduplicated\n",
              100.0 * alert_reduction(s.notifications - s.resolutions, s.raw_alerts), s.inhibited,
              s.deduplicated);
  if (!s.receivers.empty()) {
    std::printf("    receivers");
    for (std::size_t i = 0; i < s.receivers.size(); ++i)
      std::printf("%s %s %zu", i == 0 ? "" : ",", s.receivers[i].first.c_str(),
                  s.receivers[i].second);
    std::printf("\n");
  }
  const NotificationScores& n = s.scores;
  if (n.scored_incidents > 0)
    std::printf(
        "    notified %zu of %zu incidents (notification recall %.2f); time to first "
        "notification p50 %s, p90 %s\n",
        n.notified_incidents, n.scored_incidents, n.recall,
        n.time_to_notify.count ? short_duration(n.time_to_notify.median).c_str() : "-",
        n.time_to_notify.count ? short_duration(n.time_to_notify.p90).c_str() : "-");
}

void print_incident_rule_scores(const ScoreTable& table) {
  if (table.incident_rules.empty()) return;
  std::printf("  incident rules, scored (a detected incident matches a true one it opens in)\n");
  const int width = label_width(table.incident_rules);
  print_header("rule", width);
  for (const auto& [rule, scores] : table.incident_rules) print_row(rule, scores, width);
}

void print_score_table(const ScoreTable& table) {
  std::printf(
      "  scores      %zu alert%s against %zu incident%s (alerts match an affected service "
      "inside the impact window)\n",
      table.alerts, table.alerts == 1 ? "" : "s", table.incidents, table.incidents == 1 ? "" : "s");
  const int width = label_width(table.rows);
  print_header("detector", width);
  for (const auto& [label, scores] : table.rows) print_row(label, scores, width);
}

void print_rca_scores(const std::vector<RcaScores>& scores) {
  if (scores.empty()) return;
  std::printf(
      "  root cause  %zu detected incidents ranked (AC@k: a correct cause in the first k; "
      "docs/rca.md)\n",
      scores.front().cases);
  std::printf("    %-10s %-7s %6s %6s %6s %6s %10s\n", "ranker", "delay", "AC@1", "AC@3", "AC@5",
              "Avg@5", "AC@3 path");
  for (const RcaScores& s : scores)
    std::printf("    %-10s %-7s %6.2f %6.2f %6.2f %6.2f %10.2f\n", s.ranker.c_str(),
                format_duration(s.delay).c_str(), s.ac[0], s.ac[2], s.ac[4], s.avg5, s.ac_path[2]);
}

void print_remediation(const RemediationScores& s) {
  std::printf(
      "  remediation %zu actions, %zu escalated; mitigated %zu of %zu incidents (%zu by "
      "automation: %.0f%%)",
      s.actions, s.escalated, s.mitigated_incidents, s.scored_incidents, s.automatic,
      100 * s.automatic_rate());
  if (s.judged_actions > 0)
    std::printf("; %zu of %zu action judgements a remedy", s.correct_actions, s.judged_actions);
  if (s.caused_incidents > 0)
    std::printf("; %zu incidents caused by remediation (restarts, drains)", s.caused_incidents);
  std::printf("\n");
  const auto row = [](const char* name, const Distribution& d) {
    if (d.count == 0) return std::string();
    return std::string(name) + " " + short_duration(d.median) + "/" + short_duration(d.p90);
  };
  std::string times;
  for (const std::string& part :
       {row("detect", s.time_to_detect), row("notify", s.time_to_notify),
        row("acknowledge", s.time_to_acknowledge), row("mitigate", s.time_to_mitigate),
        row("recover", s.time_to_recover)})
    if (!part.empty()) times += (times.empty() ? "" : ", ") + part;
  if (!times.empty()) std::printf("              time to (p50/p90) %s\n", times.c_str());
  std::printf("              SLO error budget burned %.0f%%\n", 100 * s.error_budget_burned);
}

}  // namespace dosim::cli
