// The `sim` table a chaos script sees (docs/lua-api.md), bound to a ScriptHost. Internal to
// scripting/: the host calls these.
#pragma once

#include "detectors/incident_rule.h"
#include "detectors/runner.h"
#include "dosim/engine/operations.h"
#include "scripting/script_host.h"

namespace dosim {

// Makes the global `sim` (and routes `print` to sim.log). Runs the Lua prelude.
void bind_script_api(ScriptHost& host);
// Forgets the host: a sim call from then on is an error (the run has ended), never a use
// of a destroyed host.
void unbind_script_api(ScriptHost& host);

// What a coroutine yields to sleep until a time, or to wait for a predicate.
const void* sleep_token();
const void* wait_token();

// Push the function that dispatches hooks (sim._dispatch), and hook payloads.
void push_dispatcher(ScriptHost& host);
// Push the function that ends the experiments still running (ScriptHost::finish()).
void push_finisher(ScriptHost& host);
void push_alert(ScriptHost& host, const Alert& alert);
void push_incident(ScriptHost& host, const DetectedIncident& incident);
// {t, rule, severity, previous, temperature, accumulators = {stream = value}}.
void push_escalation(ScriptHost& host, const DetectedIncident& incident,
                     const IncidentChange& change);
void push_change(ScriptHost& host, const ChangeEvent& change);

// A detector whose scores a Lua function computes (sim.detector).
std::unique_ptr<Detector> make_lua_detector(ScriptHost& host,
                                            const ScriptHost::LuaDetectorDef& definition,
                                            const DetectorSpec& spec, std::size_t series);

}  // namespace dosim
