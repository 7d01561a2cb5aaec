// openBackend(): picks a backend from a datastore URL.
#include <fmt/format.h>

#include "datastore/backend.h"
#include "datastore/etcd/etcd_backend.h"
#include "datastore/file/file_backend.h"
#include "datastore/kubernetes/kubernetes_backend.h"

namespace coral::datastore {

absl::StatusOr<BackendPtr> openBackend(std::string_view url) { return openBackend(url, {}); }

absl::StatusOr<BackendPtr> openBackend(std::string_view url, const OpenOptions& options) {
  if (url.empty()) url = kDefaultDatastoreUrl;
  if (url.starts_with("file://")) {
    FileBackendOptions file_options;
    file_options.create_if_missing = options.create_if_missing;
    return openFileBackendUrl(url, file_options);
  }
  if (url.starts_with("etcd://") || url.starts_with("etcds://") ||
      url.starts_with("etcd+unix://")) {
    return openEtcdBackend(url);
  }
  if (url == "kubernetes" || url.starts_with("kubernetes://") || url.starts_with("kubernetes?")) {
    return openKubernetesBackend(url);
  }
  if (url.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("datastore URL \"{}\": unknown scheme (use file:///path, etcd://host:port, "
                    "etcd+unix:///socket or kubernetes[:///kubeconfig])",
                    url));
  }
  FileBackendOptions file_options;  // a bare path, taken as it is (no query)
  file_options.create_if_missing = options.create_if_missing;
  return openFileBackend(url, file_options);
}

}  // namespace coral::datastore
