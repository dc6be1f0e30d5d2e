// The request level (`mode: requests`): every request simulated as events, filling the same
// TickOutcome as the fluid model, so that everything downstream (the frame, detectors, the
// ground truth with its counterfactual, Lua, the trace) is unchanged.
//
// A request arriving at a service (an external one, or one attempt of a caller's call):
//  1. the sidecar: it fails at once with the service's and its endpoint's abort share (a
//     fault, a defect) and with the share of traffic an outage left unrouted; otherwise it
//     waits the injected delays that draw it (each DelayPart on its share, per request);
//  2. a load balancer picks a ready replica (round-robin, random, or least-request: the less
//     busy of two random picks, as Envoy's default); with none ready it is rejected at once;
//  3. the replica serves `workers` requests at once and queues up to `queue_limit` more
//     (beyond, a 503 at once); a request holds a worker for its service time (mean
//     workers / capacity_rps x the endpoint's latency_factor relative to the mean factor,
//     slower by a CPU stressor's load; exponential, lognormal, gamma or deterministic);
//  4. then it calls its dependencies one after the other, in scenario order: on each,
//     floor(calls_per_request) calls and one more with the fractional part's probability,
//     one after the other. An attempt can be aborted on the edge, lost (with a timeout it
//     times out; without one TCP delivers it 200 ms later), delayed, and times out after the
//     caller's timeout: the caller stops waiting, the callee still does the work. A failed
//     attempt is retried after a fully jittered exponential back-off, up to `retries`. A call
//     that fails after its retries fails the request (at once: no further calls), unless the
//     dependency is optional (then `fallback_latency`, or one call to its fallback);
//  5. the answer goes back to the caller. A replica that goes away fails its requests.
// Telemetry per tick is measured on the requests: arrivals in the tick, and error ratio and
// latency percentiles (exact order statistics, nearest rank) of the requests that completed
// in it; latencies describe the answered ones (fast failures count as errors only, as in
// the fluid model). Utilisation is the workers' busy time over their time; CPU follows it.
//
// Traces and logs (Scenario::tracing): every request is a server span, every call attempt a
// client span of its caller; a trace's spans are kept when its root is head-sampled, or, with
// tail sampling, buffered until the root answers and kept when one failed or the root was
// slow (spans that end after that follow the decision). Each answered request is logged with
// the logs probability. Only the world given a span sink records them (not the
// counterfactual).
//
// Determinism: every draw is a counter-based function of (seed, service, the request's
// identity), so the counterfactual world draws the same arrivals and service times, and a
// copy continues exactly. Memory grows with the requests in flight, not with the horizon.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "calendar_queue.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"
#include "rng.h"
#include "topology.h"

namespace dosim {

struct AbortPart;
struct DelayPart;
struct FaultModifiers;
struct TickOutcome;

class RequestWorld {
 public:
  // A Locust source's users in one tick (closed loop): how many run their loop, and where
  // their requests enter (service, share of the requests; the shares sum to 1).
  struct UserLoad {
    int source = 0;
    int users = 0;
    std::vector<std::pair<int, double>> entries;
  };

  // REQUIRES: scenario and topology outlive it (copies share them).
  RequestWorld(const Scenario& scenario, const Topology& topology, std::uint64_t seed);

  // Simulates tick `tick`: `ready` replicas per service from its start, external arrivals at
  // `external` requests per second per service, faults as `mod` and `unrouted` say; every
  // event before the tick's end is processed, and `out` gets the tick's telemetry.
  // Locust sources are not in `external`: `users` says how many of each source's users loop.
  // The spans and logs of the tick go to `spans` and `logs` when given (the real world), and
  // an `outlier-ejection` event per replica ejected to `ejections`.
  void advance(std::int64_t tick, const std::vector<double>& external,
               const std::vector<UserLoad>& users, const FaultModifiers& mod,
               const std::vector<int>& ready, const std::vector<double>& unrouted, TickOutcome& out,
               std::vector<SpanRecord>* spans = nullptr, std::vector<LogRecord>* logs = nullptr,
               std::vector<ChangeEvent>* ejections = nullptr);

  // Dependency `dependency`'s attempt timeout from now on (0: none); attempts already sent
  // keep the one they were sent with (a run-time operation, Simulation::set_timeout).
  void set_timeout(int dependency, SimTime timeout) { edges_[dependency].timeout = timeout; }

  // The end of the run at `end`: every span of a kept trace still open (a request not answered,
  // an attempt not resolved) is recorded to `spans`, ending at `end` with status 0, so that
  // no exported span names a parent that is missing; a tail-sampled trace whose root has not
  // answered is decided on what it holds (a failed span; its root slow until `end`).
  void close_open_spans(SimTime end, std::vector<SpanRecord>& spans);

  std::size_t in_flight() const { return hops_.size() - free_hops_.size(); }
  std::uint64_t hops_served() const { return hops_served_; }  // requests served by a service

 private:
  // kArrive, kEnter, kDone name a hop; kResult, kTimeout, kRetry, kFallbackOver a call.
  enum class EventKind : std::uint8_t {
    kArrive,
    kEnter,
    kDone,
    kResult,
    kTimeout,
    kRetry,
    kFallbackOver,
    kUserWake  // `hop` names a user
  };
  struct Event {          // ordered by (time, order pushed) in the calendar queue
    std::int32_t hop;     // the hop, or the call
    std::uint32_t gen;    // its generation when the event was made (stale ones are dropped)
    std::int32_t status;  // kResult: the callee's answer; kDone: the hop's done_epoch
    EventKind kind;
    bool fast;  // kResult: the callee failed it at once (no latency to measure)
  };
  struct Hop {  // one request at one service
    std::int32_t service = -1, endpoint = -1;
    std::int32_t parent = -1;       // the call it answers (calls_), -1 for an external request
    std::uint32_t parent_call = 0;  // that call's generation when it was sent
    std::int32_t replica = -1;      // while queued or served
    std::uint32_t gen = 0;          // slot generation (bumped when freed)
    std::uint64_t key = 0;          // the request's identity, for its draws
    // Its endpoint's draw: a call's first attempt's key, so that a retry asks the same
    // endpoint again (a client retries its request); an external request's own key.
    std::uint64_t endpoint_key = 0;
    SimTime arrived = 0;            // at the service
    // Its calls: sequential (the next dependency position, calls left on it, calls made on
    // it, a fallback to call next) or parallel (calls outstanding, while being issued).
    std::int32_t dep_pos = -1;
    std::int32_t calls_left = 0;
    std::int32_t call_number = 0;
    std::int32_t fallback = -1;
    std::int32_t outstanding = 0;
    bool issuing = false;
    bool failed = false;  // a call it needs failed
    // Tracing: the root request's key, the trace being recorded (-1: none), this request's
    // server span and its parent (the caller's client span), and what touched it.
    std::uint64_t root = 0;
    std::int32_t trace = -1;
    std::uint64_t span = 0, parent_span = 0;
    std::int32_t served_attempt = 0;
    std::int32_t fault = -1, change = -1;
    std::int32_t status = 200;         // its answer
    std::int32_t user = -1;            // the Locust user that sent it (users_), for external ones
    std::int32_t via = -1;             // the dependency it came over, for a call's
    std::int32_t served_replica = -1;  // the replica the balancer gave it
    bool in_service = false;           // holding a worker of `replica`
    std::uint64_t service_order = 0;   // when it got the worker (replica losses fail in order)
    double slow = 0;                   // seconds a fault on its replica adds to its service time
    // When its service ends, and which of its kDone events says so (a CPU share that
    // changes while it is served re-times it: retime_service).
    SimTime done_at = 0;
    std::int32_t done_epoch = 0;
  };
  struct Call {             // one call of a request to a dependency, over its attempts
    std::int32_t hop = -1;  // the caller
    std::int32_t dep = -1;
    std::int32_t call_number = 0;
    std::int32_t attempt = 0;
    std::uint32_t gen = 0;  // bumped at every attempt and outcome (and when freed)
    SimTime attempt_start = 0;
    std::uint64_t attempt_span = 0;
    std::int32_t attempt_fault = -1, attempt_change = -1;
    std::int32_t attempt_replica = -1;  // the callee replica its attempt went to, once known
    bool open = false;                  // its attempt counts in flight on the edge
    bool span_open = false;             // its attempt's client span is not recorded yet
    bool fallback = false;              // a fallback call
  };
  struct TraceState {                 // a trace being recorded
    std::uint64_t high = 0, low = 0;  // the trace id
    bool head = false;                // head-sampled: kept whatever happens
    bool error = false;               // some span failed
    bool decided = false;             // the root answered (or head): keep is final
    bool keep = false;
    int open = 0;                   // its requests not answered yet
    std::vector<SpanRecord> spans;  // buffered until decided
  };
  struct User {  // a Locust user's loop: send, wait for the answer, wait, send again
    std::int32_t source = 0, index = 0;  // its source, and its rank there (the last ones stop)
    std::uint64_t key = 0;               // its identity, for its draws
    std::uint64_t sent = 0;              // requests sent so far
    SimTime started = 0;                 // when it sent its last one
    bool looping = false;                // a request in flight or a wake-up scheduled
  };
  struct Ejection {     // a callee replica under a caller's outlier detection
    int failures = 0;   // consecutive 5xx answers
    int times = 0;      // ejections so far
    SimTime until = 0;  // ejected before this
  };
  struct Replica {
    int busy = 0;
    std::vector<std::int32_t> queue;  // FIFO: queue[head..]
    std::size_t head = 0;
    std::size_t waiting() const { return queue.size() - head; }
  };
  struct ServiceState {
    std::vector<Replica> replicas;  // the ready ones: [0, ready)
    std::size_t cursor = 0;         // round-robin: picks so far
    std::size_t cursor_mod = 0;     // cursor % cursor_n (no division per pick)
    std::size_t cursor_n = 0;
    int workers = 1;
    std::size_t queue_limit = 1;
    // From its spec, kept here for the hot path.
    LoadBalancer load_balancer = LoadBalancer::kRoundRobin;
    bool parallel_calls = false;
    ServiceTimeKind service_time = ServiceTimeKind::kExponential;
    // This tick's: the mean service time before the endpoint's factor, and whether a fault
    // or an outage acts on its requests (if not, their checks are skipped).
    double mean_time = 0;
    double cpu_share = 0;  // of its capacity a cpu-stress fault leaves (0 before the first tick)
    bool faulted = false;
    double busy_since = 0;  // seconds into the tick of the last busy change
    int busy = 0;           // workers busy over all replicas
  };
  struct Stats {  // one tick, reset by advance()
    std::vector<double> arrivals, completed, errors, fast, busy_seconds;
    std::vector<double> unrouted;  // failed for want of a replica to route to (an outage)
    std::vector<std::vector<float>> latency;  // per service: answered requests
    std::vector<double> ep_arrivals, ep_completed, ep_errors;
    std::vector<std::vector<float>> ep_latency;
    std::vector<double> edge_sent, edge_resolved, edge_failed;
    std::vector<std::vector<float>> edge_latency;
  };

  std::int32_t new_hop();
  void free_hop(std::int32_t h);
  void push(SimTime t, EventKind kind, std::int32_t hop, std::uint32_t gen,
            std::int32_t status = 200, bool fast = false);
  inline double draw(int service, std::uint64_t key, std::uint64_t slot) const;  // [0, 1)
  double normal(int service, std::uint64_t key, std::uint64_t slot) const;
  // The delay the parts add to one request; `source` gets the part's source that delayed it.
  // `replica` -1: the parts of every replica (at the sidecar); else those on that replica.
  double delay_of(const std::vector<DelayPart>& parts, int service, std::uint64_t key,
                  std::uint64_t slot, int* source, int replica = -1) const;
  // The part that aborts one request (nullptr: none); `replica` as for delay_of.
  const AbortPart* abort_of(const std::vector<AbortPart>& parts, int service, std::uint64_t key,
                            std::uint64_t slot, int replica = -1) const;
  // The service's and its endpoint's faults on a request, at the sidecar (replica -1) or on
  // the replica it was given: the part that aborts it (nullptr: none), or the delay they add;
  // each records what touched the request.
  const AbortPart* request_abort(Hop& hop, int replica) const;
  double request_delay(Hop& hop, int replica) const;
  double service_time(int service, int endpoint, std::uint64_t key) const;

  // The request at its service: arrival, sidecar, queue, service, calls, answer.
  void arrive(std::int32_t h, SimTime t);
  void enter(std::int32_t h, SimTime t);
  void start_service(std::int32_t h, int replica, SimTime t);
  void done(std::int32_t h, SimTime t);
  // A cpu-stress fault starts or ends: the requests service s serves now go on at the new
  // CPU share, what is left of their service time scaled by `factor` (old share / new).
  void retime_service(int s, double factor, SimTime t);
  // Calls: the next one of a sequential request, all of a parallel one, one attempt, its
  // failure (retry or give up), and the call's end (with a fallback call to make next).
  void next_call(std::int32_t h, SimTime t);
  void issue_parallel(std::int32_t h, SimTime t);
  std::int32_t new_call(std::int32_t h, int dep, int call_number, bool fallback);
  int calls_on(const Hop& hop, int dep_pos) const;  // calls this request makes on it
  void send_attempt(std::int32_t c, SimTime t);
  void attempt_failed(std::int32_t c, SimTime t);
  void call_done(std::int32_t c, bool ok, SimTime t, int fallback = -1);
  void finish(std::int32_t h, int status, bool fast, SimTime t);
  // Call `c` gets the outcome of its attempt of generation `gen`.
  // `fast`: the callee failed the attempt at once (its latency is not measured, as a
  // service's fast failures are not).
  void on_result(std::int32_t c, std::uint32_t gen, int status, SimTime t, bool fast = false);
  // Tracing: a span of trace `trace` is done; the end of a request of it.
  void record(std::int32_t trace, const SpanRecord& span);
  void close_attempt(std::int32_t c, int status, SimTime t);
  void trace_ids(std::uint64_t root, std::uint64_t& high, std::uint64_t& low) const;
  // Decides at an external request's arrival whether its trace is recorded.
  void start_trace(std::int32_t h);
  // Locust users: start the users a source gained, send one user's next request, and
  // schedule its next one after an answer at t.
  void start_users(const UserLoad& load);
  void user_sends(std::int32_t u, SimTime t);
  void user_answered(std::int32_t u, SimTime t);
  // Outlier detection: the replica to use instead of an ejected pick, and a replica's
  // answer (or timeout) as the caller's sidecar counts it.
  int avoid_ejected(int dep, int replica, int replicas, SimTime t) const;
  void outlier_answer(int dep, int replica, int status, SimTime t);
  void set_busy(int service, int delta, SimTime t);
  void apply_ready(const std::vector<int>& ready, SimTime t);
  void fill(TickOutcome& out, const std::vector<int>& ready);  // reorders the tick's samples

  const Scenario* scenario_;
  const Topology* topology_;
  std::vector<RandomStream> arrival_rng_, request_rng_;    // per service
  std::vector<int> endpoint_begin_;                        // per service, size services + 1
  std::vector<double> endpoint_weight_, endpoint_factor_;  // normalised weight; factor / mean
  std::vector<std::int32_t> endpoint_row_;  // row of the trace's /endpoints, -1 if implicit
  std::vector<ServiceState> services_;
  std::vector<Hop> hops_;
  std::vector<std::int32_t> free_hops_;
  std::vector<Call> calls_;
  std::vector<std::int32_t> free_calls_;
  CalendarQueue<Event> events_;
  // Arrivals and answers that happen at once are handled in place, nested at most this deep.
  static constexpr int kMaxNesting = 64;
  int depth_ = 0;
  std::uint64_t hops_served_ = 0;
  std::uint64_t service_starts_ = 0;     // workers handed out so far (Hop::service_order)
  const FaultModifiers* mod_ = nullptr;  // this tick's
  const std::vector<double>* unrouted_ = nullptr;
  // Per dependency: attempts in flight, and those of them that are retries (retry budgets
  // and circuit breakers count them).
  std::vector<int> edge_in_flight_, edge_retries_in_flight_;
  // Per dependency, from its spec for the hot path: the callee, the attempt timeout (0:
  // none), the circuit breaker's pending limit (0: none), and whether outlier detection runs.
  struct EdgeState {
    std::int32_t callee = 0;
    std::int32_t max_pending = 0;
    SimTime timeout = 0;
    bool outlier = false;
  };
  std::vector<EdgeState> edges_;
  // Per dependency: floor(calls_per_request), and the chance of one call more.
  std::vector<int> whole_calls_;
  std::vector<double> extra_call_;
  std::vector<char> edge_faulted_;  // per dependency, this tick: a fault acts on its attempts
  std::vector<std::vector<Ejection>> ejections_;  // per dependency, per callee replica
  std::vector<User> users_;
  std::vector<std::vector<std::int32_t>> source_users_;  // per traffic source, by rank
  std::vector<int> active_users_;                        // per traffic source, this tick
  std::vector<const UserLoad*> user_loads_;              // per traffic source, this tick
  std::vector<RandomStream> user_rng_;                   // per traffic source
  std::vector<TraceState> traces_;
  std::vector<std::int32_t> free_traces_;
  std::vector<SpanRecord>* spans_out_ = nullptr;  // this tick's
  std::vector<LogRecord>* logs_out_ = nullptr;
  std::vector<ChangeEvent>* ejections_out_ = nullptr;
  SimTime tick_start_ = 0;
  double dt_ = 1;
  Stats stats_;
  std::vector<std::uint32_t> radix_counts_;  // percentile selection's scratch (all zero)
  std::vector<float> radix_bucket_;
};

}  // namespace dosim
