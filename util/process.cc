#include "util/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace dosim {
namespace {

std::vector<char*> c_args(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  return args;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv) {
  ProcessResult result;
  int pipe_fds[2];
  if (argv.empty() || ::pipe(pipe_fds) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args = c_args(argv);
  pid_t pid = -1;
  const int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (error != 0) {
    ::close(pipe_fds[0]);
    result.output = std::strerror(error);
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n > 0)
      result.output.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // posix_spawnp reports a missing program as exit status 127 from the child.
  result.started = !(WIFEXITED(status) && WEXITSTATUS(status) == 127 && result.output.empty());
  result.exit_code = exit_code_of(status);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args = c_args(argv);
  if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

bool BackgroundProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

BackgroundProcess::~BackgroundProcess() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100 && running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

HttpResponse http_get(int port, const std::string& target, int timeout_ms) {
  return http_request("127.0.0.1", port, "GET", target, "", "", timeout_ms);
}

HttpResponse http_request(const std::string& host, int port, const std::string& method,
                          const std::string& target, const std::string& body,
                          const std::string& content_type, int timeout_ms) {
  HttpResponse response;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &address.sin_addr) !=
      1) {
    response.body = "not an IPv4 address: " + host;
    return response;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    response.body = std::strerror(errno);
    return response;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    response.body = std::strerror(errno);
    ::close(fd);
    return response;
  }
  std::string request = method + " " + target + " HTTP/1.0\r\nHost: " + host + ":" +
                        std::to_string(port) + "\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST")
    request += "Content-Type: " + content_type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      response.body = "cannot send the request";
      ::close(fd);
      return response;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[65536];
  pollfd waiting{fd, POLLIN, 0};
  for (;;) {
    const int ready = ::poll(&waiting, 1, timeout_ms);
    if (ready <= 0) {
      response.body = "no answer in time";
      ::close(fd);
      return response;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0)
      raw.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(fd);
  const std::size_t header_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || header_end == std::string::npos) {
    response.body = "not an HTTP response";
    return response;
  }
  const std::size_t space = raw.find(' ');
  response.status = std::atoi(raw.c_str() + space + 1);
  response.body = raw.substr(header_end + 4);
  response.ok = response.status >= 200 && response.status < 300;
  return response;
}

HttpServer::HttpServer(const std::string& host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &address.sin_addr) !=
      1)
    throw std::runtime_error("not an IPv4 address: " + host);
  // Non-blocking: serve_for accepts every waiting connection, then reads them side by side.
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(std::strerror(errno));
  const int yes = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd_, SOMAXCONN) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(reason);
  }
}

int HttpServer::port() const {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin_port);
}

HttpServer::~HttpServer() {
  // Answers under way get up to a second to finish (the last state a page asked for).
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  for (Connection& connection : pending_) {
    while (connection.answered && !write_some(connection) && Clock::now() < deadline) {
      pollfd writing{connection.fd, POLLOUT, 0};
      ::poll(&writing, 1, 50);
    }
  }
  for (const Connection& connection : pending_) ::close(connection.fd);
  if (fd_ >= 0) ::close(fd_);
}

namespace {

HttpServer::Response plain(int status, const std::string& text) {
  return {status, "text/plain; charset=utf-8", text + "\n"};
}

// Where the request's head ends (its blank line, CRLF or a bare LF as some clients send it)
// and where its body starts; npos when it has not arrived.
std::pair<std::size_t, std::size_t> head_bounds(const std::string& request) {
  const std::size_t crlf = request.find("\r\n\r\n"), lf = request.find("\n\n");
  if (crlf == std::string::npos && lf == std::string::npos) return {std::string::npos, 0};
  if (lf != std::string::npos && (crlf == std::string::npos || lf < crlf)) return {lf, lf + 2};
  return {crlf, crlf + 4};
}

// The bytes of a response: its status line, its head and (but for a HEAD) its body.
std::string response_bytes(const HttpServer::Response& response) {
  const char* reason = response.status == 200   ? "OK"
                       : response.status == 400 ? "Bad Request"
                       : response.status == 404 ? "Not Found"
                       : response.status == 405 ? "Method Not Allowed"
                       : response.status == 408 ? "Request Timeout"
                       : response.status == 409 ? "Conflict"
                       : response.status == 411 ? "Length Required"
                       : response.status == 413 ? "Content Too Large"
                       : response.status == 431 ? "Request Header Fields Too Large"
                       : response.status == 501 ? "Not Implemented"
                                                : "Error";
  const std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " + reason +
                           "\r\nContent-Type: " + response.content_type +
                           "\r\nContent-Length: " + std::to_string(response.body.size()) +
                           (response.allow.empty() ? "" : "\r\nAllow: " + response.allow) +
                           "\r\nConnection: close\r\n\r\n";
  return response.head_only ? head : head + response.body;
}

}  // namespace

namespace {
// Whether a request's whole head is in and asks `Expect: 100-continue` (any case).
bool expects_continue(const std::string& request) {
  const std::size_t head_end = head_bounds(request).first;
  if (head_end == std::string::npos) return false;
  std::string head(1, '\n');
  head.append(request, 0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = head.find("\nexpect:");
  return at != std::string::npos && head.find("100-continue", at) < head.find('\n', at + 1);
}
}  // namespace

std::optional<HttpServer::Response> HttpServer::answer(const Connection& connection, bool closed,
                                                       Handler handler, void* context) {
  const std::string& request = connection.request;
  const auto [head_end, body_start] = head_bounds(request);
  if (head_end == std::string::npos) {
    if (request.size() >= kMaxHead)
      return plain(431,
                   "the request's head is longer than " + std::to_string(kMaxHead / 1024) + " KiB");
    if (closed) return Response{0, "", ""};  // the client left before its head: unanswered
    return std::nullopt;
  }
  // The body: as many bytes as Content-Length says (case-insensitive header names).
  std::size_t length = 0;
  {
    std::string head(1, '\n');  // each header line after a '\n', the first one too
    head.append(request, 0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const std::size_t te = head.find("\ntransfer-encoding:"); te != std::string::npos) {
      const std::size_t end = head.find('\n', te + 1);
      std::string coding = head.substr(te + 19, end == std::string::npos ? end : end - te - 19);
      while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back())))
        coding.pop_back();
      coding.erase(0, coding.find_first_not_of(" \t"));
      if (coding.find("chunked") != std::string::npos)
        return plain(411, "a body needs a Content-Length (a chunked body is not read)");
      return plain(501, "Transfer-Encoding '" + coding +
                            "' is not supported: send the body with a Content-Length");
    }
    std::optional<unsigned long long> given;
    for (std::size_t at = head.find("\ncontent-length:"); at != std::string::npos;
         at = head.find("\ncontent-length:", at + 1)) {
      std::size_t i = at + 16;
      while (i < head.size() && (head[i] == ' ' || head[i] == '\t')) ++i;
      std::size_t end = i;
      while (end < head.size() && std::isdigit(static_cast<unsigned char>(head[end]))) ++end;
      std::size_t after = end;
      while (after < head.size() &&
             (head[after] == ' ' || head[after] == '\t' || head[after] == '\r'))
        ++after;
      if (end == i || end - i > 18 || (after < head.size() && head[after] != '\n'))
        return plain(400, "Content-Length must be a whole number of bytes");
      const unsigned long long value = std::strtoull(head.c_str() + i, nullptr, 10);
      if (given && *given != value) return plain(400, "two different Content-Length headers");
      given = value;
    }
    if (given && *given > kMaxBody)
      return plain(413, "the body is longer than " + std::to_string(kMaxBody >> 20) + " MiB");
    length = given ? static_cast<std::size_t>(*given) : 0;
  }
  if (request.size() < body_start + length) {
    if (!closed) return std::nullopt;
    // The client stopped sending: what came is not the request (it was run as it was).
    return plain(400, "the body ended after " + std::to_string(request.size() - body_start) +
                          " of its Content-Length's " + std::to_string(length) + " bytes");
  }
  // The request line: METHOD TARGET HTTP/x.y, one space between them.
  std::string line = request.substr(0, std::min(request.find('\n'), head_end));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space =
      first_space == std::string::npos ? std::string::npos : line.find(' ', first_space + 1);
  const bool well_formed =
      first_space != std::string::npos && first_space > 0 && second_space != std::string::npos &&
      second_space > first_space + 1 &&
      std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(first_space),
                  [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }) &&
      (line[first_space + 1] == '/' || line.compare(first_space + 1, 7, "http://") == 0) &&
      line.compare(second_space + 1, 5, "HTTP/") == 0 &&
      line.find(' ', second_space + 1) == std::string::npos;
  if (!well_formed)
    return plain(400, "the request line must be METHOD /path HTTP/1.1 (it was '" +
                          line.substr(0, 200) + "')");
  std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  // The absolute form a proxy sends (http://127.0.0.1:9100/metrics): its path.
  if (target.rfind("http://", 0) == 0) {
    const std::size_t path = target.find('/', 7);
    target = path == std::string::npos ? "/" : target.substr(path);
  }
  const std::string method = line.substr(0, first_space);
  if (method == "HEAD") {  // a GET's head alone (HTTP: a HEAD is answered with no body)
    Response response = handler(context, {"GET", target, ""});
    response.head_only = true;
    return response;
  }
  return handler(context, {method, target, request.substr(body_start, length)});
}

bool HttpServer::write_some(Connection& connection) {
  while (connection.sent < connection.out.size()) {
    const ssize_t n = ::send(connection.fd, connection.out.data() + connection.sent,
                             connection.out.size() - connection.sent, MSG_NOSIGNAL);
    if (n > 0) {
      connection.sent += static_cast<std::size_t>(n);
      connection.progress = std::chrono::steady_clock::now();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    return true;  // the client left: nothing more to send
  }
  return true;
}

void HttpServer::serve_for(int timeout_ms, Handler handler, void* context) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto ms_until = [](Clock::time_point t) {
    return std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count());
  };
  // When a connection is given up: half a second without a byte (a browser's speculative
  // connection, closed unanswered), a second for the whole request (else 408), and once
  // answered kWriteMs without the client taking a byte of the answer.
  const auto expiry = [](const Connection& c) {
    if (c.answered) return c.progress + std::chrono::milliseconds(kWriteMs);
    return c.accepted + std::chrono::milliseconds(c.request.empty() ? 500 : kRequestMs);
  };
  std::vector<pollfd> fds;
  for (bool first = true;; first = false) {
    long long wait = first ? ms_until(deadline) : 0;
    if (!first) {
      if (Clock::now() >= deadline) return;
      wait = ms_until(deadline);
    }
    for (const Connection& c : pending_) wait = std::min(wait, ms_until(expiry(c)));
    fds.assign(1, pollfd{fd_, POLLIN, 0});
    for (const Connection& c : pending_)
      fds.push_back({c.fd, static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) {
      // Every connection waiting: each is read as its bytes come, none waits for another.
      for (;;) {
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK);
        if (client < 0) break;
        Connection accepted;
        accepted.fd = client;
        accepted.accepted = Clock::now();
        pending_.push_back(std::move(accepted));
      }
    }
    char buffer[8192];
    for (std::size_t i = 0; i < pending_.size();) {
      Connection& c = pending_[i];
      const auto polled =
          std::find_if(fds.begin() + 1, fds.end(), [&](const pollfd& p) { return p.fd == c.fd; });
      const bool woken = ready > 0 && polled != fds.end() && polled->revents != 0;
      bool done = false;
      if (c.answered) {
        // An answer under way goes out as fast as its client takes it: a slow reader (a
        // multi-MB state on a slow link) holds no other client, nor the run. The client is
        // reading while the bytes the system holds for it shrink (the socket wakes a writer
        // only once half its buffer is free, which a slow reader takes long to make).
        done = woken && write_some(c);
        int queued = 0;
        if (!done && ::ioctl(c.fd, SIOCOUTQ, &queued) == 0) {
          if (static_cast<std::size_t>(queued) < c.queued) c.progress = Clock::now();
          c.queued = static_cast<std::size_t>(queued);
        }
        done = done || Clock::now() >= expiry(c);
      } else {
        bool closed = false;
        if (woken) {
          const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
          if (n > 0)
            c.request.append(buffer, static_cast<std::size_t>(n));
          else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
        }
        std::optional<Response> response = answer(c, closed, handler, context);
        // A client that asks `Expect: 100-continue` (curl's and many libraries' way for a
        // POST) waits for it before its body: it waited a second and got 408.
        if (!response && !c.continued && expects_continue(c.request)) {
          static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          (void)::send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
          c.continued = true;
        }
        if (!response && Clock::now() >= expiry(c)) {
          if (c.request.empty())
            response = Response{0, "", ""};  // nothing at all: unanswered
          else
            response = plain(
                408, std::string("the request's ") +
                         (head_bounds(c.request).first == std::string::npos ? "head" : "body") +
                         " did not arrive within " + std::to_string(kRequestMs) + " ms");
        }
        if (response) {
          if (response->status == 0) {
            done = true;
          } else {
            c.answered = true;
            c.request.clear();
            c.out = response_bytes(*response);
            c.progress = Clock::now();
            done = write_some(c);
          }
        }
      }
      if (!done) {
        ++i;
        continue;
      }
      ::close(c.fd);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

std::string url_encoded(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace dosim
