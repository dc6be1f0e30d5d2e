// The EWMA z-score detector written in Lua (sim.detector), as bench_lua.cc and
// bench_python.cc run it beside the built-in `ewma`: a table of state per series.
#pragma once

namespace dosim::bench {

inline constexpr const char* kLuaEwmaDetector = R"(
sim.detector{name = "lua-ewma", threshold = 4,
  init = function(n)
    mean, var, seen = {}, {}, 0
    for i = 1, n do mean[i] = 0; var[i] = 0 end
  end,
  observe = function(values, t)
    local scores = {}
    for i = 1, #values do
      local x = values[i]
      if seen == 0 then mean[i] = x end
      local d = x - mean[i]
      local sd = math.sqrt(var[i])
      scores[i] = (sd > 0) and math.abs(d) / sd or 0
      mean[i] = mean[i] + 0.05 * d
      var[i] = 0.95 * (var[i] + 0.05 * d * d)
    end
    seen = seen + 1
    return scores
  end}
)";

}  // namespace dosim::bench
