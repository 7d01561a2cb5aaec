// EtcdBackend: datastore::Backend semantics mapped onto etcd v3 requests.
//   get/list   → Range (list: [prefix, prefixRangeEnd(prefix)), sorted by key)
//   create     → Txn(create_revision(key) == 0) then Put
//   update     → Txn(mod_revision(key) == expected && create_revision(key) > 0) then Put,
//                else Range(key) tells kNotFound from kAborted
//   remove     → DeleteRange, or the same Txn guard with a DeleteRange
//   leases     → LeaseGrant / LeaseRevoke / one LeaseKeepAlive exchange
//   compact    → Compact(physical = true)
#include "datastore/etcd/etcd_backend.h"

#include <fmt/format.h>

#include "common/status.h"
#include "common/strings.h"
#include "datastore/etcd/etcd_connection.h"
#include "datastore/etcd/etcd_url.h"
#include "datastore/etcd/etcd_watch.h"

namespace coral::datastore {
namespace {

using etcd::Endpoint;
using etcd::EtcdConnection;

etcdserverpb::Compare compare(std::string_view key, etcdserverpb::Compare::CompareTarget target,
                              etcdserverpb::Compare::CompareResult result, int64_t value) {
  etcdserverpb::Compare c;
  c.set_key(std::string(key));
  c.set_target(target);
  c.set_result(result);
  if (target == etcdserverpb::Compare::CREATE) {
    c.set_create_revision(value);
  } else {
    c.set_mod_revision(value);
  }
  return c;
}

// The CAS guard: the key exists and was last changed at `expected`.
void addCasGuard(etcdserverpb::TxnRequest& txn, std::string_view key, Revision expected) {
  *txn.add_compare() =
      compare(key, etcdserverpb::Compare::MOD, etcdserverpb::Compare::EQUAL, expected);
  *txn.add_compare() =
      compare(key, etcdserverpb::Compare::CREATE, etcdserverpb::Compare::GREATER, 0);
  txn.add_failure()->mutable_request_range()->set_key(std::string(key));
}

// Why a CAS guard failed, from the failure branch's Range.
absl::Status casFailure(const etcdserverpb::TxnResponse& response, std::string_view op,
                        std::string_view key, Revision expected) {
  if (response.responses_size() == 0 || response.responses(0).response_range().kvs_size() == 0) {
    return absl::NotFoundError(fmt::format("etcd: {} \"{}\": key not found", op, key));
  }
  return absl::AbortedError(
      fmt::format("etcd: {} \"{}\": key changed at revision {}, expected revision {}", op, key,
                  response.responses(0).response_range().kvs(0).mod_revision(), expected));
}

class EtcdBackend final : public Backend {
 public:
  explicit EtcdBackend(std::shared_ptr<EtcdConnection> connection)
      : connection_(std::move(connection)) {}

  absl::StatusOr<KeyValue> get(std::string_view key) override {
    CORAL_RETURN_IF_ERROR(checkKey(key));
    etcdserverpb::RangeRequest request;
    request.set_key(std::string(key));
    etcdserverpb::RangeResponse response;
    CORAL_RETURN_IF_ERROR(connection_->call(fmt::format("get \"{}\"", key),
                                            [&](Endpoint& ep, grpc::ClientContext& ctx) {
                                              return ep.kv->Range(&ctx, request, &response);
                                            }));
    if (response.kvs_size() == 0) {
      return absl::NotFoundError(fmt::format("etcd: get \"{}\": key not found", key));
    }
    return etcd::toKeyValue(response.kvs(0));
  }

  absl::StatusOr<ListResult> list(std::string_view prefix) override {
    // Pages of kPageSize keys, all read at the revision of the first page, so the result
    // is one consistent snapshot however large it is.
    constexpr int64_t kPageSize = 1000;
    ListResult result;
    std::string from = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
    const std::string end = etcd::prefixRangeEnd(prefix);
    while (true) {
      etcdserverpb::RangeRequest request;
      request.set_key(from);
      request.set_range_end(end);
      request.set_limit(kPageSize);
      request.set_revision(result.revision);  // 0 on the first page: the latest
      request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
      request.set_sort_target(etcdserverpb::RangeRequest::KEY);
      etcdserverpb::RangeResponse response;
      CORAL_RETURN_IF_ERROR(connection_->call(fmt::format("list \"{}\"", prefix),
                                              [&](Endpoint& ep, grpc::ClientContext& ctx) {
                                                return ep.kv->Range(&ctx, request, &response);
                                              }));
      if (result.revision == 0) result.revision = response.header().revision();
      for (const auto& kv : response.kvs()) result.kvs.push_back(etcd::toKeyValue(kv));
      if (!response.more() || response.kvs_size() == 0) break;
      from = result.kvs.back().key + '\0';
    }
    return result;
  }

  absl::StatusOr<Revision> create(std::string_view key, std::string_view value,
                                  LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(checkKey(key));
    etcdserverpb::TxnRequest txn;
    *txn.add_compare() =
        compare(key, etcdserverpb::Compare::CREATE, etcdserverpb::Compare::EQUAL, 0);
    fillPut(txn.add_success()->mutable_request_put(), key, value, lease);
    etcdserverpb::TxnResponse response;
    CORAL_RETURN_IF_ERROR(runTxn(fmt::format("create \"{}\"", key), txn, response));
    if (!response.succeeded()) {
      return absl::AlreadyExistsError(fmt::format("etcd: create \"{}\": key exists", key));
    }
    return response.header().revision();
  }

  absl::StatusOr<Revision> update(std::string_view key, std::string_view value, Revision expected,
                                  LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(checkKey(key));
    etcdserverpb::TxnRequest txn;
    addCasGuard(txn, key, expected);
    fillPut(txn.add_success()->mutable_request_put(), key, value, lease);
    etcdserverpb::TxnResponse response;
    CORAL_RETURN_IF_ERROR(runTxn(fmt::format("update \"{}\"", key), txn, response));
    if (!response.succeeded()) return casFailure(response, "update", key, expected);
    return response.header().revision();
  }

  absl::StatusOr<Revision> put(std::string_view key, std::string_view value,
                               LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(checkKey(key));
    etcdserverpb::PutRequest request;
    fillPut(&request, key, value, lease);
    etcdserverpb::PutResponse response;
    CORAL_RETURN_IF_ERROR(connection_->call(fmt::format("put \"{}\"", key),
                                            [&](Endpoint& ep, grpc::ClientContext& ctx) {
                                              return ep.kv->Put(&ctx, request, &response);
                                            }));
    return response.header().revision();
  }

  absl::StatusOr<Revision> remove(std::string_view key, std::optional<Revision> expected) override {
    CORAL_RETURN_IF_ERROR(checkKey(key));
    if (!expected) {
      etcdserverpb::DeleteRangeRequest request;
      request.set_key(std::string(key));
      etcdserverpb::DeleteRangeResponse response;
      CORAL_RETURN_IF_ERROR(connection_->call(fmt::format("remove \"{}\"", key),
                                              [&](Endpoint& ep, grpc::ClientContext& ctx) {
                                                return ep.kv->DeleteRange(&ctx, request, &response);
                                              }));
      if (response.deleted() == 0) {
        return absl::NotFoundError(fmt::format("etcd: remove \"{}\": key not found", key));
      }
      return response.header().revision();
    }
    etcdserverpb::TxnRequest txn;
    addCasGuard(txn, key, *expected);
    txn.add_success()->mutable_request_delete_range()->set_key(std::string(key));
    etcdserverpb::TxnResponse response;
    CORAL_RETURN_IF_ERROR(runTxn(fmt::format("remove \"{}\"", key), txn, response));
    if (!response.succeeded()) return casFailure(response, "remove", key, *expected);
    return response.header().revision();
  }

  absl::StatusOr<WatchPtr> watch(std::string_view prefix, Revision from_revision) override {
    if (from_revision < 0) {
      return absl::InvalidArgumentError(
          fmt::format("etcd: watch \"{}\": negative revision {}", prefix, from_revision));
    }
    if (from_revision == 0) {
      // "Changes after this call": pin that to a revision now, so a resume after a
      // reconnect neither skips nor repeats anything.
      CORAL_ASSIGN_OR_RETURN(const Revision now, currentRevision());
      from_revision = now + 1;
    }
    return WatchPtr(
        std::make_unique<etcd::EtcdWatch>(connection_, std::string(prefix), from_revision));
  }

  absl::StatusOr<LeaseId> grantLease(std::chrono::seconds ttl) override {
    if (ttl.count() <= 0) {
      return absl::InvalidArgumentError(
          fmt::format("etcd: grant lease: ttl {}s is not positive", ttl.count()));
    }
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl.count());
    etcdserverpb::LeaseGrantResponse response;
    CORAL_RETURN_IF_ERROR(
        connection_->call("grant lease", [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.lease->LeaseGrant(&ctx, request, &response);
        }));
    if (!response.error().empty()) {
      return absl::InternalError(fmt::format("etcd: grant lease: {}", response.error()));
    }
    return response.id();
  }

  absl::Status keepAlive(LeaseId lease) override {
    int64_t ttl = 0;
    CORAL_RETURN_IF_ERROR(connection_->call(
        fmt::format("keep lease {:x} alive", lease), [&](Endpoint& ep, grpc::ClientContext& ctx) {
          auto stream = ep.lease->LeaseKeepAlive(&ctx);
          etcdserverpb::LeaseKeepAliveRequest request;
          request.set_id(lease);
          etcdserverpb::LeaseKeepAliveResponse response;
          if (stream->Write(request) && stream->Read(&response)) {
            ttl = response.ttl();
            stream->WritesDone();
            while (stream->Read(&response)) {
            }
          }
          return stream->Finish();
        }));
    if (ttl <= 0) {
      return absl::NotFoundError(
          fmt::format("etcd: keep lease {:x} alive: lease not found or expired", lease));
    }
    return absl::OkStatus();
  }

  absl::Status revokeLease(LeaseId lease) override {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    return connection_->call(fmt::format("revoke lease {:x}", lease),
                             [&](Endpoint& ep, grpc::ClientContext& ctx) {
                               return ep.lease->LeaseRevoke(&ctx, request, &response);
                             });
  }

  absl::StatusOr<Revision> currentRevision() override {
    // Any Range answers with the store's revision; count one unlikely key to keep it small.
    etcdserverpb::RangeRequest request;
    request.set_key(std::string(1, '\0'));
    request.set_count_only(true);
    etcdserverpb::RangeResponse response;
    CORAL_RETURN_IF_ERROR(
        connection_->call("current revision", [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.kv->Range(&ctx, request, &response);
        }));
    return response.header().revision();
  }

  absl::Status compact(Revision revision) override {
    etcdserverpb::CompactionRequest request;
    request.set_revision(revision);
    request.set_physical(true);
    etcdserverpb::CompactionResponse response;
    absl::Status status = connection_->call(fmt::format("compact to revision {}", revision),
                                            [&](Endpoint& ep, grpc::ClientContext& ctx) {
                                              return ep.kv->Compact(&ctx, request, &response);
                                            });
    // etcd answers OutOfRange for both "already compacted" and "future revision"; only
    // the first is a compaction in backend.h's sense.
    if (status.code() == absl::StatusCode::kOutOfRange &&
        errorMessage(status).find("future revision") != std::string_view::npos) {
      return absl::InvalidArgumentError(std::string(errorMessage(status)));
    }
    return status;
  }

 private:
  static absl::Status checkKey(std::string_view key) {
    if (key.empty()) return absl::InvalidArgumentError("etcd: empty key");
    return absl::OkStatus();
  }

  static void fillPut(etcdserverpb::PutRequest* put, std::string_view key, std::string_view value,
                      LeaseId lease) {
    put->set_key(std::string(key));
    put->set_value(std::string(value));
    put->set_lease(lease);
  }

  absl::Status runTxn(const std::string& what, const etcdserverpb::TxnRequest& txn,
                      etcdserverpb::TxnResponse& response) {
    return connection_->call(what, [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Txn(&ctx, txn, &response);
    });
  }

  std::shared_ptr<EtcdConnection> connection_;
};

}  // namespace

absl::StatusOr<BackendPtr> openEtcdBackend(std::string_view url) {
  CORAL_ASSIGN_OR_RETURN(etcd::EtcdOptions options, etcd::parseEtcdUrl(url));
  CORAL_ASSIGN_OR_RETURN(auto connection, EtcdConnection::create(std::move(options)));
  return BackendPtr(std::make_unique<EtcdBackend>(std::move(connection)));
}

}  // namespace coral::datastore
