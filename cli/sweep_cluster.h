// Where the runs of a sweep go: this process's threads, or the ranks of an MPI job
// (docs/sweep.md, "MPI").
//
// Under mpirun (or srun) with more than one rank, and with dosim built with MPI
// (DOSIM_HAVE_MPI), rank 0 coordinates: it hands out run indices one at a time to whichever
// rank asks (dynamic load balancing: runs differ in cost), receives each result as text, and
// runs indices on its own threads too; every other rank runs what it is handed on its threads
// and sends the results back. Only rank 0 sees results. Worker threads never call MPI (MPI is
// initialised MPI_THREAD_FUNNELED); rank 0 polls for messages with short sleeps so that its
// own threads keep the core.
//
// Without MPI (or with one rank) the indices run on this process's threads. Either way the
// results are the same: a run's result depends on its index alone.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace dosim::cli {

// The world size and rank a launcher announced in the environment (Open MPI's
// OMPI_COMM_WORLD_*, PMI's PMI_*), or 1 and 0.
int launcher_world_size();
int launcher_rank();
// Whether this dosim was built with MPI.
bool built_with_mpi();

class SweepCluster {
 public:
  // Starts MPI when built with it and launched by an MPI launcher.
  SweepCluster();
  ~SweepCluster();  // MPI_Finalize when it was started
  SweepCluster(const SweepCluster&) = delete;
  SweepCluster& operator=(const SweepCluster&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool leader() const { return rank_ == 0; }

  // Whether every rank's `ok` is true (a collective call: every rank calls it once).
  bool all_ok(bool ok);

  // The result of one run as text; throws on failure (the message is reported).
  using Compute = std::function<std::string(std::size_t index)>;
  // Called on rank 0, one call at a time, for each result and each failure.
  using Deliver = std::function<void(std::size_t index, const std::string& text)>;

  // Runs every index of `indices` (rank 0's list; other ranks' are ignored) on `threads`
  // threads per rank. Returns on every rank once all have run.
  void run(const std::vector<std::size_t>& indices, int threads, const Compute& compute,
           const Deliver& deliver, const Deliver& fail);
  // On rank 0 after run(): how many results each rank delivered (a line for people; the
  // results do not depend on it).
  const std::vector<std::size_t>& runs_by_rank() const { return runs_by_rank_; }

 private:
  std::vector<std::size_t> runs_by_rank_;
  int rank_ = 0;
  int size_ = 1;
  bool started_ = false;
};

}  // namespace dosim::cli
