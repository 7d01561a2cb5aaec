// openTestBackend: opens a datastore backend from a URL for tests and test tools (such as
// coral-datastore-writer), before datastore/ has its own openBackend(). Each backend adds
// its scheme in datastore_url.cc.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "datastore/backend.h"

namespace coral::testing {

//   file://DIR        the file backend in DIR (created if missing)
//   etcd://HOST:PORT  etcd (see datastore_url.cc)
//   kubernetes:///KUBECONFIG  the API server (e.g. FakeKubeApiServer's kubeconfig)
absl::StatusOr<datastore::BackendPtr> openTestBackend(std::string_view url);

}  // namespace coral::testing
