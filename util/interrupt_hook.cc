#include "util/interrupt_hook.h"

#include <atomic>

namespace dosim {
namespace {

std::atomic<void (*)()> g_hook{nullptr};
std::atomic<bool> g_fired{false};
// Per thread: a Python detector runs on the thread that steps its run, and runs on other
// threads (a program's worker threads) keep their own flags.
thread_local std::atomic<bool>* g_python_stop = nullptr;

}  // namespace

void set_interrupt_hook(void (*hook)()) { g_hook.store(hook); }

void fire_interrupt_hook() {
  g_fired.store(true);
  if (void (*hook)() = g_hook.load()) hook();
}

bool interrupt_hook_fired() { return g_fired.load(); }

void set_python_stop(std::atomic<bool>* flag) { g_python_stop = flag; }

bool request_python_stop() {
  std::atomic<bool>* flag = g_python_stop;
  if (flag == nullptr) return false;
  flag->store(true);
  return true;
}

}  // namespace dosim
