#pragma once
// cpp-httplib's server with the limits a public endpoint needs. httplib gives
// each connection a worker thread that blocks in its reads, so a client that
// trickles its headers (one line every few seconds: each read is quick, the
// request never ends) holds a worker for as long as it likes, and a few such
// clients stall every route. Here each connection is served through a stream
// whose reads share one deadline per request (headers and body), connections
// beyond a cap are answered 503 + Retry-After at once without reading them,
// and the worker pool is larger than the cap, so the refusal and /health
// always find a thread.

#include <atomic>
#include <cstdint>
#include <string>

#include <httplib.h>

namespace upm::serve {

struct ConnectionLimits {
  int64_t max_connections = 64;        // open at once; more are answered 503
  double request_read_timeout_s = 10;  // a request's headers and body, from its first byte
  double keep_alive_timeout_s = 5;     // idle wait for the next request on a connection
  int64_t max_requests_per_connection = 100;
  double write_timeout_s = 30;
  int64_t retry_after_s = 1;  // the Retry-After of a 503
};

class GuardedHttpServer : public httplib::Server {
 public:
  explicit GuardedHttpServer(const ConnectionLimits& limits);
  int64_t open_connections() const { return open_.load(); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Waits up to `seconds` for the next request's first byte; false when the
  // peer is gone, the time is up or the server stops.
  bool wait_for_request(socket_t sock, double seconds) const;
  void refuse_busy(socket_t sock) const;

  ConnectionLimits limits_;
  std::atomic<int64_t> open_{0};
};

}  // namespace upm::serve
