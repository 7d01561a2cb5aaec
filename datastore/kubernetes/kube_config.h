// Where the API server is and how to authenticate to it: the datastore URL, in-cluster
// service-account files, kubeconfig files. No network here, so it is unit-testable.
//
// Datastore URLs (CORAL_DATASTORE or --datastore):
//   kubernetes                  in-cluster when KUBERNETES_SERVICE_HOST is set, else the
//                               kubeconfig in $KUBECONFIG (first file), else ~/.kube/config
//   kubernetes:///path/to/kubeconfig   that kubeconfig (its current context)
// Query options: ?context=NAME (a kubeconfig context other than the current one),
//   namespace=NS (where datastore Leases live; default the service account's namespace,
//   the context's namespace, else "default"), serviceaccount_dir=DIR (in-cluster files,
//   default /var/run/secrets/kubernetes.io/serviceaccount), timeout_ms=N (per request,
//   default 10000), max_retries=N (429/5xx/connection errors, default 6),
//   lease_sweep_ms=N (how often expired datastore leases are swept, default 5000),
//   qps=N&burst=N (client-side rate limit, default 50 requests/s with bursts of 100; qps=0
//   turns it off).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace coral::datastore::kubernetes {

inline constexpr std::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

struct ClientConfig {
  std::string host;  // DNS name or IP literal (no brackets)
  int port = 443;
  std::string ca_pem;      // PEM roots; empty: the system's
  std::string token;       // static bearer token
  std::string token_file;  // re-read when it changes (projected service-account tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_verify = false;  // kubeconfig insecure-skip-tls-verify (warned about)
  std::string namespace_ = "default";
  std::chrono::milliseconds timeout{10000};
  int max_retries = 6;
  std::chrono::milliseconds lease_sweep{5000};
  // Client-side rate limit (a token bucket, as client-go's QPS/Burst); qps 0: none.
  double qps = 50;
  int burst = 100;
  std::string source;  // "in-cluster" or the kubeconfig path, for messages
};

// From the service-account directory and KUBERNETES_SERVICE_HOST/PORT.
absl::StatusOr<ClientConfig> loadInClusterConfig(std::string_view serviceaccount_dir);
// From a kubeconfig file: `context` or its current-context.
absl::StatusOr<ClientConfig> loadKubeconfig(const std::string& path, std::string_view context = {});
// From a datastore URL ("kubernetes", "kubernetes:///path?context=x", see above).
absl::StatusOr<ClientConfig> configFromUrl(std::string_view url);

// "https://host:port" → host and port (IPv6 in brackets); kInvalidArgument otherwise.
absl::Status parseServer(std::string_view server, ClientConfig& config);

}  // namespace coral::datastore::kubernetes
