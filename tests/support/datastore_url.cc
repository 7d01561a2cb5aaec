// URL dispatch for test tools: one branch per backend scheme (see datastore_url.h).
#include "tests/support/datastore_url.h"

#include "datastore/etcd/etcd_backend.h"
#include "datastore/file/file_backend.h"
#include "datastore/kubernetes/kubernetes_backend.h"
#include "fmt/format.h"

namespace coral::testing {

absl::StatusOr<datastore::BackendPtr> openTestBackend(std::string_view url) {
  constexpr std::string_view kFile = "file://";
  if (url.starts_with(kFile)) return datastore::openFileBackendUrl(url);  // ?compactBytes=N

  if (url.starts_with("etcd://") || url.starts_with("etcds://")) {
    return datastore::openEtcdBackend(url);
  }

  if (url.starts_with("kubernetes")) return datastore::openKubernetesBackend(url);

  return absl::InvalidArgumentError(fmt::format(
      "datastore URL {}: unknown scheme (expected file://DIR or etcd://HOST:PORT)", url));
}

}  // namespace coral::testing
