// How a stop request (SIGINT / SIGTERM in `dosim run` and `dosim serve`) reaches code that
// dosim does not interpret itself: a Python detector or ranker in a loop never returns to
// the tick that would see the stop, so the signal handler calls the hook given here (the
// embedded interpreter's: it raises KeyboardInterrupt in the running Python code), and that
// code's caller asks interrupt_hook_fired() to tell the stop from the user's own exception.
// Lock-free and async-signal-safe.
#pragma once

#include <atomic>

namespace dosim {

// The function a signal handler calls (nullptr: none). It must be async-signal-safe.
void set_interrupt_hook(void (*hook)());
// For a signal handler: calls the hook, if any, and marks it fired.
void fire_interrupt_hook();
// Whether fire_interrupt_hook() has run in this process.
bool interrupt_hook_fired();

// A run driven from Python (the dosim module's run, step and finish) has no signal handler of
// its own: Python's raises KeyboardInterrupt in the main thread. The run polls `flag`
// (nullptr: none), set for the calling thread (detectors run on the thread that steps the
// run); a KeyboardInterrupt in a Python detector or ranker sets it through
// request_python_stop(), which says whether this thread had a flag to set.
void set_python_stop(std::atomic<bool>* flag);
bool request_python_stop();

}  // namespace dosim
