// `dosim report TRACE.h5 [-o report.html]`: the run report of a trace, one self-contained
// HTML file (dosim/analysis/run_report.h, docs/report.md).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "dosim/analysis/run_report.h"
#include "util/output_file.h"

namespace dosim::cli {

std::string default_report_path(const std::string& trace_path) {
  std::filesystem::path path(trace_path);
  path.replace_extension(".html");
  return path.string();
}

int report_command(const ReportOptions& options) {
  // `-o -`: the page on standard output, and the line that says so on standard error (as for
  // any device or pipe: the page is the output, nothing may follow its </html>).
  const bool to_stdout = options.out_path == "-";
  const std::string out =
      options.out_path.empty() ? default_report_path(options.trace_path) : options.out_path;
  if (!to_stdout) {
    if (same_file(out, options.trace_path))
      throw InputError(out, "cannot write the report: it is the trace it reports on");
    if (const std::string reason = unwritable_reason(out); !reason.empty())
      throw InputError(out, "cannot write the report: " + reason);
  }
  const std::string html = render_run_report(options.trace_path);
  if (to_stdout) {
    // A full device or a closed pipe: main says so once, with the system's reason (exit 2).
    if (std::fwrite(html.data(), 1, html.size(), stdout) != html.size() || std::fflush(stdout) != 0)
      return kExitBadInput;
  } else if (const std::string reason = write_file_replacing(out, html); !reason.empty()) {
    throw InputError(out, "cannot write the report: " + reason);
  }
  std::FILE* said = to_stdout || is_special_file(out) ? stderr : stdout;
  std::fprintf(said, "dosim report: %s (%.0f KiB)\n", to_stdout ? "stdout" : out.c_str(),
               static_cast<double>(html.size()) / 1024);
  return kExitOk;
}

}  // namespace dosim::cli
