#include "guarded_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "api_error.h"

namespace upm::serve {

namespace {

using Clock = std::chrono::steady_clock;

int millis(double seconds) { return int(std::max(0.0, std::min(seconds, 86400.0)) * 1000.0); }

// poll(2) for one event, retried on EINTR; true when it is ready.
bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ip.clear();
  port = 0;
  if (r != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  }
  ip = text;
}

// A socket whose reads share one deadline (the request's), buffered like
// httplib's own stream so that line reading costs few system calls.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int sock, Clock::time_point read_deadline, int write_timeout_ms)
      : sock_(sock), read_deadline_(read_deadline), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override { return begin_ < end_ || wait_fd(sock_, POLLIN, read_ms_left()); }
  bool is_writable() const override { return wait_fd(sock_, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ < end_) {
      const size_t n = std::min(size, end_ - begin_);
      std::memcpy(ptr, buffer_ + begin_, n);
      begin_ += n;
      return ssize_t(n);
    }
    if (!wait_fd(sock_, POLLIN, read_ms_left())) return -1;  // the request's time is up
    if (size >= sizeof buffer_) return receive(ptr, size);
    const ssize_t n = receive(buffer_, sizeof buffer_);
    if (n <= 0) return n;
    begin_ = 0;
    end_ = size_t(n);
    return read(ptr, size);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    while (true) {
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  int read_ms_left() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - Clock::now()).count();
    return int(std::max<int64_t>(0, left));
  }
  ssize_t receive(char* ptr, size_t size) {
    while (true) {
      const ssize_t n = ::recv(sock_, ptr, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  int sock_;
  Clock::time_point read_deadline_;
  int write_timeout_ms_;
  char buffer_[4096];
  size_t begin_ = 0, end_ = 0;
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(const ConnectionLimits& limits) : limits_(limits) {
  // More workers than connections: a refusal, and /health, always find one.
  const size_t workers = size_t(std::max<int64_t>(1, limits_.max_connections)) + 4;
  new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
}

bool GuardedHttpServer::wait_for_request(socket_t sock, double seconds) const {
  const auto deadline = Clock::now() + std::chrono::milliseconds(millis(seconds));
  // In slices, so that stop() is not kept waiting by idle connections.
  while (svr_sock_ != INVALID_SOCKET) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    if (wait_fd(sock, POLLIN, int(std::min<int64_t>(left, 100)))) return true;
  }
  return false;
}

void GuardedHttpServer::refuse_busy(socket_t sock) const {
  const std::string body =
      error_body("server busy: " + std::to_string(limits_.max_connections) +
                     " connections are open (the limit); retry after " + std::to_string(limits_.retry_after_s) + " s",
                 "server_error", "server_busy")
          .dump();
  const std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: " +
                               std::to_string(limits_.retry_after_s) +
                               "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                               body;
  DeadlineStream out(sock, Clock::now(), millis(1.0));
  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = out.write(response.data() + sent, response.size() - sent);
    if (n <= 0) break;
    sent += size_t(n);
  }
  // Half-close, then drain what the client sent for a moment: closing with
  // unread data would reset the connection before it reads the 503.
  ::shutdown(sock, SHUT_WR);
  char sink[1024];
  const auto until = Clock::now() + std::chrono::milliseconds(200);
  while (Clock::now() < until && wait_fd(sock, POLLIN, 50)) {
    if (::recv(sock, sink, sizeof sink, 0) <= 0) break;
  }
}

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
  const int64_t open = ++open_;
  bool ok = true;
  if (open > limits_.max_connections) {
    spdlog::warn("chat server: {} connections open, the limit is {}: answered 503", open, limits_.max_connections);
    refuse_busy(sock);
  } else {
    bool connection_closed = false;
    for (int64_t served = 0; served < limits_.max_requests_per_connection && !connection_closed; ++served) {
      if (!wait_for_request(sock, limits_.keep_alive_timeout_s)) break;
      DeadlineStream stream(sock, Clock::now() + std::chrono::milliseconds(millis(limits_.request_read_timeout_s)),
                            millis(limits_.write_timeout_s));
      const bool last = served + 1 == limits_.max_requests_per_connection || svr_sock_ == INVALID_SOCKET;
      ok = process_request(stream, last, connection_closed, nullptr);
      if (!ok) break;
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  --open_;
  return ok;
}

}  // namespace upm::serve
