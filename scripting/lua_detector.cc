// A detector written in Lua (sim.detector): one call of its `observe(values, t)` per tick
// with the watched values as a Lua array, returning one score per value.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "scripting/script_api.h"

namespace dosim {
namespace {

class LuaDetector : public Detector {
 public:
  LuaDetector(ScriptHost& host, const ScriptHost::LuaDetectorDef& definition,
              const DetectorSpec& spec, std::size_t series)
      : host_(host), name_(spec.name), observe_ref_(definition.observe_ref), series_(series) {
    threshold_ = definition.threshold;
    for (const auto& [key, value] : spec.params)
      if (key == "threshold") threshold_ = value;
    if (definition.init_ref == LUA_NOREF) return;
    lua_State* L = host_.sandbox().state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, definition.init_ref);
    lua_pushinteger(L, static_cast<lua_Integer>(series));
    lua_createtable(L, 0, static_cast<int>(spec.params.size()));
    for (const auto& [key, value] : spec.params) {
      lua_pushnumber(L, value);
      lua_setfield(L, -2, key.c_str());
    }
    try {
      host_.sandbox().call(2, 0);
    } catch (const ScriptError& error) {
      // Said at the scenario's detector, on one line: the error's own line and no traceback
      // (it was printed there with its line breaks escaped).
      const std::string message = error.what();
      throw ScriptError(message.substr(0, message.find('\n')) + " (lua detector '" + name_ +
                        "', in init)");
    }
  }

  void step(std::span<const float> values, std::span<float> scores) override {
    // After a stop request the run ends with this tick: no more Lua (scores 0).
    if (interrupt_requested()) {
      std::fill(scores.begin(), scores.end(), 0.0f);
      return;
    }
    try {
      observe(values, scores);
    } catch (const ScriptError& error) {
      if (!host_.sandbox().interrupted()) {
        // Which detector, and when, at the end of the first line (as a Python detector's
        // error says); the traceback below.
        const std::string message = error.what();
        const std::size_t newline = message.find('\n');
        const std::string context = " (lua detector '" + name_ + "' at simulated time " +
                                    format_duration(host_.clock()) + ")";
        if (message.find("detector '" + name_ + "'") != std::string::npos) throw;
        throw ScriptError(newline == std::string::npos
                              ? message + context
                              : message.substr(0, newline) + context + message.substr(newline));
      }
      std::fill(scores.begin(), scores.end(), 0.0f);
    }
  }

  double limit() const override { return threshold_; }

 private:
  void observe(std::span<const float> values, std::span<float> scores) {
    lua_State* L = host_.sandbox().state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, observe_ref_);
    lua_createtable(L, static_cast<int>(values.size()), 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      lua_pushnumber(L, values[i]);
      lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_pushnumber(L, exact_seconds(host_.clock()));
    host_.sandbox().call(2, 1);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      fail("observe must return a table of scores");
    }
    for (std::size_t i = 0; i < series_; ++i) {
      lua_rawgeti(L, -1, static_cast<lua_Integer>(i + 1));
      int is_number = 0;
      const double score = lua_tonumberx(L, -1, &is_number);
      lua_pop(L, 1);
      if (!is_number) {
        lua_pop(L, 1);
        fail("observe returned no number for series " + std::to_string(i + 1) + " of " +
             std::to_string(series_));
      }
      // Scores are kept as 32-bit floats: one beyond their range (1e39) is as infinite as inf.
      scores[i] = static_cast<float>(score);
      if (!std::isfinite(scores[i])) {
        lua_pop(L, 1);
        fail("observe returned a score that is not a finite 32-bit number (" + number_text(score) +
             ") for series " + std::to_string(i + 1) + " of " + std::to_string(series_));
      }
    }
    lua_rawgeti(L, -1, static_cast<lua_Integer>(series_ + 1));
    const bool more = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (more) {
      const std::size_t returned = std::max<std::size_t>(lua_rawlen(L, -1), series_ + 1);
      lua_pop(L, 1);
      fail("observe returned " + std::to_string(returned) + " scores for " +
           std::to_string(series_) + " series");
    }
    lua_pop(L, 1);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ScriptError(where() + ": detector '" + name_ + "': " + what);
  }

  static std::string number_text(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof text, "%.14g", x);  // as Lua shows a number
    return text;
  }

  // "FILE:LINE" of the observe function (where it is defined): it has returned, so no line
  // of it is running.
  std::string where() const {
    lua_State* L = host_.sandbox().state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, observe_ref_);
    lua_Debug function;
    if (lua_getinfo(L, ">S", &function) == 0 || function.linedefined <= 0) return host_.path();
    return std::string(function.short_src) + ":" + std::to_string(function.linedefined);
  }

  ScriptHost& host_;
  std::string name_;
  int observe_ref_;
  std::size_t series_;
  double threshold_ = 1.0;
};

}  // namespace

std::unique_ptr<Detector> make_lua_detector(ScriptHost& host,
                                            const ScriptHost::LuaDetectorDef& definition,
                                            const DetectorSpec& spec, std::size_t series) {
  return std::make_unique<LuaDetector>(host, definition, spec, series);
}

DetectorFactory ScriptHost::detector_factory() {
  return [this](const DetectorSpec& spec, std::size_t series) -> std::unique_ptr<Detector> {
    for (const LuaDetectorDef& definition : lua_detectors_)
      if (definition.name == spec.kind) return make_lua_detector(*this, definition, spec, series);
    return nullptr;
  };
}

}  // namespace dosim
