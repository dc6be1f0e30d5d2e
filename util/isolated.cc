#include "util/isolated.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <cstring>
#include <string>

// Set by the sanitizers (and by libFuzzer through them); absent from a plain build.
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

namespace dosim {

std::string crash_in_child(const std::function<void()>& attempt) {
  const pid_t child = fork();
  if (child < 0) return "";  // no process to spare: read it in place, as before
  if (child == 0) {
    // The child dies as a plain process: no handler of the parent's (a fuzzer's crash
    // report, a run's stop flag) acts for it. _exit: no atexit handlers, no destructors of
    // the parent's objects, no leak check.
    if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(nullptr);
    for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGINT, SIGTERM})
      std::signal(signal, SIG_DFL);
    try {
      attempt();
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace dosim
