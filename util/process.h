// Running the real tools dosim hands work to (promtool, prometheus): a command to its end
// with its output, a server in the background stopped when its handle goes, a free port on
// 127.0.0.1, and an HTTP GET to it. POSIX only; nothing here reads the model's state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dosim {

struct ProcessResult {
  bool started = false;  // false: the program could not be run (not installed?)
  int exit_code = -1;    // its exit status; -1 when killed by a signal
  std::string output;    // standard output and error, interleaved
};

// Runs argv[0] (looked up on PATH) with the arguments, and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv);

// A program running in the background, its output to `log_path`; terminated (SIGTERM, then
// SIGKILL after 10 s) and reaped when the handle is destroyed.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Whether it is still running (false once it exited).
  bool running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A TCP port on 127.0.0.1 nothing listens on now (0 if none could be found).
int free_loopback_port();

// GET http://127.0.0.1:PORT/TARGET; the body when the status is 200, else nullopt-like:
// `ok` false and `body` holding the reason or the response.
struct HttpResponse {
  bool ok = false;
  int status = 0;
  std::string body;
};
HttpResponse http_get(int port, const std::string& target, int timeout_ms = 30000);
// Any method to an IPv4 host (or "localhost"), with a body (HTTP/1.0, Connection: close).
HttpResponse http_request(const std::string& host, int port, const std::string& method,
                          const std::string& target, const std::string& body,
                          const std::string& content_type, int timeout_ms = 30000);

// A plain HTTP server on one IPv4 address, on the calling thread (enough for a scraper, a
// page polling it and a test): serve_for() waits up to a timeout for connections and answers
// each with the handler's response as soon as its request is whole. Connections are read
// side by side as their bytes come (a slow or silent client holds no other, nor the caller:
// one not whole when serve_for returns waits for the next call). A client that sends nothing
// within half a second (a browser's speculative connection) is closed unanswered. A request
// must arrive whole within kRequestMs of its connection: else 408. A head over 64 KiB is
// 431, a body over 1 MiB 413, a chunked body 411, a Content-Length that is no whole number
// (or two that differ) 400, another Transfer-Encoding 501, a request line that is not
// "METHOD /path HTTP/x.y" 400; those the handler never sees. An absolute target
// (http://host:port/path) is given as its path; a head may end its lines with a bare LF.
// Answers go out as each client reads them, side by side with the other connections; one
// whose client takes nothing of it for kWriteMs is dropped. The destructor gives answers
// under way up to a second to finish.
class HttpServer {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string allow;  // a 405's Allow header (the methods the path takes); "" for none
    bool head_only = false;  // the answer to a HEAD: its GET's head, without the body
  };
  struct Request {
    std::string method, path;  // path with its query ("/api/state?since=3")
    std::string body;          // as long as its Content-Length says, at most 1 MiB
  };
  using Handler = Response (*)(void* context, const Request& request);

  // Throws std::runtime_error with the reason when it cannot listen.
  HttpServer(const std::string& host, int port);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Answers the requests that arrive within `timeout_ms` (0: those already waiting).
  void serve_for(int timeout_ms, Handler handler, void* context);

  static constexpr int kRequestMs = 1000;
  // An answer whose client takes no byte of it for this long is dropped.
  static constexpr int kWriteMs = 10000;
  static constexpr std::size_t kMaxHead = 64 * 1024, kMaxBody = 1 << 20;

  // The port it listens on: the one asked for, or the one the system chose for port 0.
  int port() const;

 private:
  struct Connection {
    int fd = -1;
    std::string request;  // the bytes so far
    std::chrono::steady_clock::time_point accepted;
    bool continued = false;  // `100 Continue` sent (the client asked with Expect)
    bool answered = false;   // its answer is in `out`, going out as the client reads it
    std::string out;
    std::size_t sent = 0;
    std::size_t queued = 0;  // of it, held by the system for the client, when last looked
    std::chrono::steady_clock::time_point progress;  // when the client last took a byte
  };
  // Sends what the client takes of the answer now; true when no more is to be sent (all of
  // it sent, or the client left).
  static bool write_some(Connection& connection);
  // The answer to a connection's request once it is whole: the handler's, or the server's
  // own (411, 413, 431, 400); status 0: nothing to answer (`closed`: the client left).
  // nullopt while more is to come.
  static std::optional<Response> answer(const Connection& connection, bool closed, Handler handler,
                                        void* context);

  int fd_ = -1;
  std::vector<Connection> pending_;  // accepted, their requests not whole yet
};

// Percent-encodes a query-string value.
std::string url_encoded(const std::string& text);

}  // namespace dosim
