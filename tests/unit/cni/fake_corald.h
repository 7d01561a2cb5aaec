// FakeCorald: an in-process gRPC server of corald's Cni service on a unix socket, for
// tests that run the real coral-cni binary. It records every CniRequest and answers as
// scripted: a result for Add, empty success for the rest, or an error, or it hangs until
// the caller gives up. Test-only; gRPC lives in fake_corald.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cni/result.h"
#include "coral/api/v1/cni.pb.h"

namespace coral::cni::testing {

class FakeCorald {
 public:
  // Listens on `socket_path` (which must not exist yet). started() tells if it does.
  explicit FakeCorald(const std::string& socket_path);
  ~FakeCorald();
  FakeCorald(const FakeCorald&) = delete;
  FakeCorald& operator=(const FakeCorald&) = delete;

  bool started() const;
  const std::string& socketPath() const { return socket_path_; }

  // Add answers this result (default: podResult of the request's netns).
  void setAddResult(const Result& result);
  // Every rpc answers this CniError instead (nullopt: back to normal answers).
  void setError(std::optional<api::v1::CniError> error);
  // Every rpc blocks until the client cancels (deadline) or the fake is destroyed.
  void setHang(bool hang);

  // "Add", "Del", "Check", "Status", "Gc" with the request, in call order.
  struct Call {
    std::string rpc;
    api::v1::CniRequest request;
  };
  std::vector<Call> calls() const;

 private:
  struct Impl;
  std::string socket_path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coral::cni::testing
