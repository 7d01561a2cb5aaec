// NftApplier: the seam between the policy dataplane and the kernel's nftables. The
// production implementation runs text through libnftables (nft_ctx), each call one
// transaction, optionally inside a network namespace (tests, the lab); tests of the
// dataplane logic can substitute a double.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace coral::agent {

class NftApplier {
 public:
  virtual ~NftApplier() = default;
  // Runs `commands` (the `nft -f` language) as one atomic transaction.
  virtual absl::Status run(const std::string& commands) = 0;
  // `nft -j list table inet coral` (without counters when `stateless`); NotFound when
  // the table does not exist.
  virtual absl::StatusOr<std::string> listTableJson(bool stateless) = 0;
};
using NftApplierPtr = std::unique_ptr<NftApplier>;

// libnftables. With a netns path, every call runs on a thread inside that namespace;
// without, in the caller's namespace (corald runs in the node's).
absl::StatusOr<NftApplierPtr> makeLibNftApplier(const std::string& netns_path = "");

}  // namespace coral::agent
