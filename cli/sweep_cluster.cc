#include "sweep_cluster.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <tuple>

#ifdef DOSIM_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: no C++ bindings to link
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace dosim::cli {
namespace {

int env_int(std::initializer_list<const char*> names, int fallback) {
  for (const char* name : names)
    if (const char* value = std::getenv(name); value && *value) return std::atoi(value);
  return fallback;
}

// Runs indices[next++] on `threads` threads until none is left, delivering under `lock`.
void run_locally(const std::vector<std::size_t>& indices, std::atomic<std::size_t>& next,
                 int threads, const SweepCluster::Compute& compute,
                 const SweepCluster::Deliver& deliver, const SweepCluster::Deliver& fail,
                 std::mutex& lock) {
  auto worker = [&] {
    for (std::size_t i = next++; i < indices.size(); i = next++) {
      std::string text;
      std::string failure;
      try {
        text = compute(indices[i]);
      } catch (const std::exception& error) {
        failure = error.what();
        if (failure.empty()) failure = "failed";
      }
      const std::lock_guard guard(lock);
      if (failure.empty())
        deliver(indices[i], text);
      else
        fail(indices[i], failure);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (threads >= 1) worker();
  for (std::thread& thread : pool) thread.join();
}

#ifdef DOSIM_HAVE_MPI
constexpr int kTagRequest = 1;  // worker -> 0: [index, status] + text; asks for the next index
constexpr int kTagAssign = 2;   // 0 -> worker: the next index, or -1 for none
constexpr int kTagDone = 3;     // worker -> 0: nothing more will come
enum Status : std::int64_t { kNothing = 0, kResult = 1, kFailure = 2 };

std::string message(std::int64_t index, Status status, const std::string& text) {
  std::string out(16, '\0');
  const std::int64_t head[2] = {index, status};
  std::memcpy(out.data(), head, sizeof head);
  return out + text;
}

// A worker rank: `threads` threads run what rank 0 hands out; this thread talks to rank 0.
void work_for_leader(int threads, const SweepCluster::Compute& compute) {
  std::mutex lock;
  std::condition_variable changed;
  std::deque<std::int64_t> todo;
  std::deque<std::tuple<std::int64_t, Status, std::string>> done;
  bool closing = false;
  auto ask = [](std::int64_t index, Status status, const std::string& text) {
    const std::string sent = message(index, status, text);
    MPI_Send(sent.data(), static_cast<int>(sent.size()), MPI_CHAR, 0, kTagRequest, MPI_COMM_WORLD);
    std::int64_t next = -1;
    MPI_Recv(&next, 1, MPI_INT64_T, 0, kTagAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return next;
  };
  std::size_t in_flight = 0;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t next = ask(-1, kNothing, "");
    if (next < 0) break;
    todo.push_back(next);
    ++in_flight;
  }
  auto worker = [&] {
    while (true) {
      std::int64_t index;
      {
        std::unique_lock guard(lock);
        changed.wait(guard, [&] { return closing || !todo.empty(); });
        if (todo.empty()) return;
        index = todo.front();
        todo.pop_front();
      }
      std::string text;
      Status status = kResult;
      try {
        text = compute(static_cast<std::size_t>(index));
      } catch (const std::exception& error) {
        text = error.what();
        status = kFailure;
      }
      const std::lock_guard guard(lock);
      done.emplace_back(index, status, std::move(text));
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  while (in_flight > 0) {
    std::tuple<std::int64_t, Status, std::string> finished;
    {
      std::unique_lock guard(lock);
      changed.wait(guard, [&] { return !done.empty(); });
      finished = std::move(done.front());
      done.pop_front();
    }
    --in_flight;
    const std::int64_t next =
        ask(std::get<0>(finished), std::get<1>(finished), std::get<2>(finished));
    if (next >= 0) {
      const std::lock_guard guard(lock);
      todo.push_back(next);
      ++in_flight;
      changed.notify_all();
    }
  }
  {
    const std::lock_guard guard(lock);
    closing = true;
    changed.notify_all();
  }
  for (std::thread& thread : pool) thread.join();
  MPI_Send(nullptr, 0, MPI_CHAR, 0, kTagDone, MPI_COMM_WORLD);
}

// Rank 0: hands out indices to the workers and runs some on its own threads.
void lead(int size, const std::vector<std::size_t>& indices, int threads,
          const SweepCluster::Compute& compute, const SweepCluster::Deliver& deliver,
          const SweepCluster::Deliver& fail, std::vector<std::size_t>& by_rank) {
  std::atomic<std::size_t> next{0};
  std::mutex lock;
  by_rank.assign(static_cast<std::size_t>(size), 0);
  const SweepCluster::Deliver own_deliver = [&](std::size_t index, const std::string& text) {
    ++by_rank[0];
    deliver(index, text);
  };
  std::thread own([&] { run_locally(indices, next, threads, compute, own_deliver, fail, lock); });
  int active = size - 1;
  std::string received;
  while (active > 0) {
    int arrived = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &arrived, &status);
    if (!arrived) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    received.assign(static_cast<std::size_t>(count), '\0');
    MPI_Recv(received.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    if (status.MPI_TAG == kTagDone) {
      --active;
      continue;
    }
    std::int64_t head[2] = {-1, kNothing};
    if (received.size() >= sizeof head) std::memcpy(head, received.data(), sizeof head);
    if (head[1] != kNothing) {
      const std::string text = received.substr(sizeof head);
      const std::lock_guard guard(lock);
      if (head[1] == kResult) {
        ++by_rank[static_cast<std::size_t>(status.MPI_SOURCE)];
        deliver(static_cast<std::size_t>(head[0]), text);
      } else {
        fail(static_cast<std::size_t>(head[0]), text);
      }
    }
    const std::size_t i = next++;
    const std::int64_t handed = i < indices.size() ? static_cast<std::int64_t>(indices[i]) : -1;
    MPI_Send(&handed, 1, MPI_INT64_T, status.MPI_SOURCE, kTagAssign, MPI_COMM_WORLD);
  }
  own.join();
}
#endif

}  // namespace

int launcher_world_size() { return env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}, 1); }
int launcher_rank() { return env_int({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"}, 0); }

bool built_with_mpi() {
#ifdef DOSIM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

SweepCluster::SweepCluster() {
#ifdef DOSIM_HAVE_MPI
  const bool launched =
      std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
  if (!launched) return;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  started_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#endif
}

SweepCluster::~SweepCluster() {
#ifdef DOSIM_HAVE_MPI
  if (started_) MPI_Finalize();
#endif
}

bool SweepCluster::all_ok(bool ok) {
#ifdef DOSIM_HAVE_MPI
  if (started_ && size_ > 1) {
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1;
  }
#endif
  return ok;
}

void SweepCluster::run(const std::vector<std::size_t>& indices, int threads, const Compute& compute,
                       const Deliver& deliver, const Deliver& fail) {
#ifdef DOSIM_HAVE_MPI
  if (started_ && size_ > 1) {
    if (leader())
      lead(size_, indices, threads, compute, deliver, fail, runs_by_rank_);
    else
      work_for_leader(threads, compute);
    return;
  }
#endif
  std::atomic<std::size_t> next{0};
  std::mutex lock;
  run_locally(indices, next, threads, compute, deliver, fail, lock);
}

}  // namespace dosim::cli
