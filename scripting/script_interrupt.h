// How a stop request (SIGINT / SIGTERM in `dosim run`) reaches Lua code that is running: the
// sandbox's instruction hook polls the flag given here (lua_sandbox.h), so a loop that never
// lets simulated time advance is stopped too. Only a signal sets the flag, so runs stay
// deterministic. Thread-safe.
#pragma once

#include <atomic>

namespace dosim {

// The flag to poll (nullptr: none). The flag must outlive every run.
void set_script_interrupt(const std::atomic<bool>* flag);
// Whether the flag given to set_script_interrupt() is set.
bool interrupt_requested();

}  // namespace dosim
