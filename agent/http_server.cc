#include "agent/http_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "common/log.h"

namespace coral::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  std::string address;
  int port = 0;
  Handler handler;
  asio::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<bool> stopping{false};

  void serve(tcp::socket socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    std::string path(req.target());
    path = path.substr(0, path.find('?'));
    HttpResponse r = req.method() == http::verb::get
                         ? handler(path)
                         : HttpResponse{405, "text/plain; charset=utf-8", "method not allowed\n"};
    http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
    res.set(http::field::server, "corald");
    res.set(http::field::content_type, r.content_type);
    res.keep_alive(false);
    res.body() = std::move(r.body);
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  void acceptLoop() {
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket(io);
      acceptor->accept(socket, ec);
      if (ec) {
        if (stopping) return;
        continue;
      }
      serve(std::move(socket));
    }
  }
};

HttpServer::HttpServer(std::string address, int port, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = std::move(address);
  impl_->port = port;
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

absl::Status HttpServer::start() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("httpAddress \"{}\": {}", impl_->address, ec.message()));
  }
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  tcp::endpoint endpoint(addr, static_cast<uint16_t>(impl_->port));
  impl_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(endpoint, ec);
  if (!ec) impl_->acceptor->listen(16, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        fmt::format("HTTP on {}:{}: {}", impl_->address, impl_->port, ec.message()));
  }
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->thread = std::thread([this] { impl_->acceptLoop(); });
  return absl::OkStatus();
}

void HttpServer::stop() {
  if (!impl_ || !impl_->acceptor) return;
  impl_->stopping = true;
  beast::error_code ec;
  impl_->acceptor->cancel(ec);
  ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
  impl_->acceptor->close(ec);
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->acceptor.reset();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace coral::agent
