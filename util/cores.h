// The cores this process may run on: its CPU affinity mask's (taskset, a Slurm or cgroup
// CPU set), not the machine's (std::thread::hardware_concurrency counts every core, so a
// sweep under `taskset -c 1` ran two threads on one core). At least 1.
#pragma once

#include <sched.h>

#include <thread>

namespace dosim {

inline int usable_cores() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    const int count = CPU_COUNT(&mask);
    if (count > 0) return count;
  }
  const unsigned all = std::thread::hardware_concurrency();
  return all > 0 ? static_cast<int>(all) : 1;
}

}  // namespace dosim
