// A tiny HTTP/1.1 server for probes and metrics (/livez, /readyz, /metrics), on
// Boost.Beast. One thread, one connection at a time: probes are rare and short.
// Beast stays inside http_server.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace coral::agent {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const std::string& path)>;
  HttpServer(std::string address, int port, Handler handler);
  ~HttpServer();
  // Binds and starts serving; port 0 picks a free port (see port()).
  absl::Status start();
  void stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coral::agent
