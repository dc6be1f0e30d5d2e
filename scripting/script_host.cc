#include "scripting/script_host.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "scripting/script_api.h"
#include "util/input_file.h"

namespace dosim {
namespace {

// The tokens a coroutine yields to ask the host for something (script_api.cc pushes them).
bool yielded_token(lua_State* co, int index, const void* token) {
  return lua_type(co, index) == LUA_TLIGHTUSERDATA && lua_touserdata(co, index) == token;
}

}  // namespace

ScriptHost::ScriptHost(Simulation& simulation, ScriptOptions options, std::uint64_t seed)
    : simulation_(simulation), options_(std::move(options)) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(options_.path, kMaxScriptBytes, reason);
  if (!text) throw ScriptError(options_.path + ": cannot read the script: " + reason);
  text_ = to_valid_utf8(*text);  // the trace keeps it as text
  sandbox_ = std::make_unique<LuaSandbox>(seed, options_.limits);
  bind_script_api(*this);
  sandbox_->load_file(options_.path);  // leaves the main chunk on the stack
}

ScriptHost::~ScriptHost() {
  // The state goes first, while every member is alive; and no Lua code that might still run
  // while it closes can reach the host.
  if (sandbox_ != nullptr && !sandbox_->panicked()) unbind_script_api(*this);
  sandbox_.reset();
}

void ScriptHost::start() {
  sandbox_->call(0, 0);
  started_ = true;
}

void ScriptHost::guard_stop(const std::function<void()>& fn) {
  if (interrupt_requested()) return;  // the simulation stops after this tick
  try {
    fn();
  } catch (const ScriptError&) {
    if (!sandbox_->interrupted()) throw;
  }
}

void ScriptHost::at(SimTime t, std::function<void()> fn, std::string where) {
  const SimTime when = std::max(t, clock());
  simulation_.at(when, [this, when, fn = std::move(fn), where = std::move(where)] {
    // Every callback and resume before the same tick counts: a loop that reschedules at the
    // same instant would never let simulated time advance.
    if (simulation_.now() != counted_before_) {
      counted_before_ = simulation_.now();
      callbacks_counted_ = 0;
    }
    if (++callbacks_counted_ > options_.limits.callbacks_per_instant) {
      char when_text[40];
      std::snprintf(when_text, sizeof when_text, "%.9g s", to_seconds(when));
      throw ScriptError((where.empty() ? options_.path : where) + ": more than " +
                        std::to_string(options_.limits.callbacks_per_instant) +
                        " callbacks at simulated time " + when_text +
                        " (before the next tick): a zero-time loop?");
    }
    struct Restore {
      SimTime& clock;
      ~Restore() { clock = -1; }
    } restore{clock_};
    clock_ = when;
    guard_stop(fn);
  });
}

void ScriptHost::add_log(const std::string& text) {
  const SimTime now = clock();
  log_.push_back({now, to_valid_utf8(text)});
  if (options_.on_log) options_.on_log(now, log_.back().text);
}

void ScriptHost::add_warning(const std::string& at, int line, const std::string& where,
                             const std::string& message) {
  warnings_.push_back({options_.path, line, 0, where + ": " + message, true});
  add_log(at + where + ": warning: " + message);
}

void ScriptHost::run_callback(int ref) {
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  sandbox_->call(0, 0);
}

void ScriptHost::resume(int ref) {
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_State* co = lua_tothread(L, -1);
  lua_pop(L, 1);
  if (co == nullptr) throw ScriptError(options_.path + ": a coroutine of sim.spawn is gone");
  sandbox_->begin_callback();
  int results = 0;
  lua_State* const outer = resuming_;
  lua_State* const outer_running = sandbox_->running();
  resuming_ = co;
  sandbox_->set_running(co);
  const int status = lua_resume(co, L, 0, &results);
  sandbox_->set_running(outer_running);
  resuming_ = outer;
  if (status == LUA_OK) {  // finished
    lua_pop(co, results);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    if (!sandbox_->fatal().empty()) throw ScriptError(sandbox_->fatal_message());
    return;
  }
  if (status != LUA_YIELD) {
    const std::string message = sandbox_->error_message(co, co);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    throw ScriptError(message);
  }
  if (!sandbox_->fatal().empty()) throw ScriptError(sandbox_->fatal_message());
  if (results == 2 && yielded_token(co, -2, sleep_token())) {
    const SimTime until = static_cast<SimTime>(lua_tointeger(co, -1));
    lua_pop(co, results);
    at(
        until, [this, ref] { resume(ref); }, LuaSandbox::script_position(co));
    return;
  }
  if (results == 2 && yielded_token(co, -2, wait_token())) {
    lua_xmove(co, L, 1);  // the predicate
    const int predicate = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(co, 1);
    waiters_.push_back({ref, predicate});
    return;
  }
  // Where it yielded: the coroutine is suspended there (level 0 is coroutine.yield).
  std::string where = LuaSandbox::script_position(co);
  if (where.empty()) where = options_.path;
  lua_pop(co, results);
  luaL_unref(L, LUA_REGISTRYINDEX, ref);
  throw ScriptError(where +
                    ": a coroutine started by sim.spawn yielded by itself; suspend it with "
                    "sim.sleep or sim.wait_until");
}

void ScriptHost::finish() {
  if (sandbox_->panicked() || !sandbox_->fatal().empty()) return;
  guard_stop([&] {
    push_finisher(*this);
    sandbox_->call(0, 0);
  });
}

std::vector<DetectorSpec> ScriptHost::detector_specs() const { return watched_specs_; }

void ScriptHost::dispatch(const char* event) {
  // Stack: the payload. Calls sim._dispatch(event, payload).
  lua_State* L = sandbox_->state();
  push_dispatcher(*this);
  lua_pushstring(L, event);
  lua_rotate(L, -3, -1);  // payload dispatcher event -> dispatcher event payload
  sandbox_->call(2, 0);
}

void ScriptHost::on_frame(const Frame& frame) {
  guard_stop([&] { fire_hooks(frame); });
}

void ScriptHost::fire_hooks(const Frame& frame) {
  lua_State* L = sandbox_->state();
  if (runner_ != nullptr && wanted_["alert"]) {
    const auto& alerts = runner_->alerts();
    for (; alerts_seen_ < alerts.size(); ++alerts_seen_) {
      push_alert(*this, alerts[alerts_seen_]);
      dispatch("alert");
    }
  }
  // Incidents are copied out only on ticks where one of them changed since each hook's
  // last look (a hook registered later still sees what came before it).
  const std::size_t changes = runner_ != nullptr ? runner_->incident_changes() : 0;
  const bool for_incident =
      runner_ != nullptr && wanted_["incident"] && changes != incident_hook_changes_;
  const bool for_escalation =
      runner_ != nullptr && wanted_["escalation"] && changes != escalation_hook_changes_;
  const std::vector<DetectedIncident> detected = for_incident || for_escalation
                                                     ? runner_->detected_incidents()
                                                     : std::vector<DetectedIncident>{};
  if (for_incident) {
    incident_hook_changes_ = changes;
    for (; incidents_seen_ < detected.size(); ++incidents_seen_) {
      push_incident(*this, detected[incidents_seen_]);
      dispatch("incident");
    }
  }
  if (for_escalation) {
    escalation_hook_changes_ = changes;
    // Escalations of this tick's polls: every escalation not reported yet, in time order.
    std::vector<std::pair<const DetectedIncident*, const IncidentChange*>> escalations;
    for (const DetectedIncident& incident : detected)
      for (const IncidentChange& change : incident.timeline)
        if (change.what == "escalated") escalations.emplace_back(&incident, &change);
    std::stable_sort(escalations.begin(), escalations.end(),
                     [](const auto& a, const auto& b) { return a.second->time < b.second->time; });
    for (; escalations_seen_ < escalations.size(); ++escalations_seen_) {
      push_escalation(*this, *escalations[escalations_seen_].first,
                      *escalations[escalations_seen_].second);
      dispatch("escalation");
    }
  }
  if (wanted_["change"]) {
    // The change log also holds what operations have planned for later: report the events
    // of [the previous frame's time, this frame's time), in time order, once each.
    for (const ChangeEvent& change : simulation_.changes()) {
      if (change.time < changes_until_ || change.time >= frame.time) continue;
      push_change(*this, change);
      dispatch("change");
    }
    changes_until_ = frame.time;
  }
  if (wanted_["tick"]) {
    lua_pushnumber(L, exact_seconds(frame.time));
    dispatch("tick");
  }
  // Predicates in the order the coroutines started waiting; a woken one resumes before the
  // next tick.
  for (std::size_t w = 0; w < waiters_.size();) {
    const Waiter waiter = waiters_[w];
    lua_rawgeti(L, LUA_REGISTRYINDEX, waiter.predicate_ref);
    sandbox_->call(0, 1);
    const bool holds = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
    if (!holds) {
      ++w;
      continue;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, waiter.predicate_ref);
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(w));
    at(simulation_.now(), [this, ref = waiter.coroutine_ref] { resume(ref); });
  }
}

}  // namespace dosim
