// NftnlWriter: the policy dataplane's fast path for changes that touch only endpoints.
//
// libnftables reads the whole table into its cache before every transaction: at 10k pods
// × 1k policies that is ~150 ms for a pod add whose commands are 4 KB. A change in which
// no set and no policy chain appears, changes or goes — a pod added, removed or relabelled
// — needs none of it: its endpoint chains (a fixed set of rule shapes, policy::EndpointRule),
// dispatch-map entries, set elements and staging set elements are written here as one nf_tables
// netlink batch (libnftnl + libmnl), which the kernel applies atomically, like `nft -f`. The rules
// are encoded exactly as nft encodes the same text, so listings and resync see no difference
// (tests/integration/policy/nftnl_writer_test.cc compares the two tables).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "policy/program.h"
#include "policy/program_change.h"
#include "policy/staging.h"

namespace coral::agent {

class NftnlWriter {
 public:
  // A netfilter netlink socket in the namespace at `netns_path` (empty: this process's).
  static absl::StatusOr<std::unique_ptr<NftnlWriter>> open(const std::string& netns_path);
  ~NftnlWriter();
  NftnlWriter(const NftnlWriter&) = delete;
  NftnlWriter& operator=(const NftnlWriter&) = delete;

  // Whether `change` (leading to `after`) can be written here.
  static bool handles(const policy::Program& after, const policy::ProgramChange& change);
  // One batch; on error nothing of it is applied and the message names the operation.
  // `staging` adds and deletes interfaces of the staging sets (policy/staging.h).
  absl::Status write(const policy::Program& after, const policy::ProgramChange& change,
                     const policy::StagingChange& staging = {});

 private:
  struct Socket;
  explicit NftnlWriter(std::unique_ptr<Socket> socket);
  std::unique_ptr<Socket> socket_;
};

}  // namespace coral::agent
