// Prometheus's duration syntax (its model.ParseDuration), shared by the rule files (analysis/)
// and the Alertmanager configuration (engine/), which read durations the same way.
#pragma once

#include <cstdint>
#include <string_view>

namespace dosim {

// `text` as Prometheus reads a duration, in nanoseconds: whole numbers with units y, w, d, h,
// m, s, ms from the largest down, each once (1h30m, 250ms, 1d, 1w, 1y), and a bare 0; no
// fraction, no µs, no bare number, no 1m1h.
// -1 when it is none.
std::int64_t prometheus_duration_ns(std::string_view text);

}  // namespace dosim
