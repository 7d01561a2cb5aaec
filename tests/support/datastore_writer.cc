// coral-datastore-writer: a test helper that writes to a datastore from its own process,
// so tests can check what several processes (or one killed with SIGKILL) do to a store.
// It uses only datastore/backend.h plus the URL dispatch of tests/support/datastore_url.h.
//
//   coral-datastore-writer URL increment KEY N
//       N compare-and-swap increments of the decimal counter at KEY (created at 1 when
//       missing), retrying on conflict; prints each committed revision on its own line.
//   coral-datastore-writer URL putloop PREFIX VALUE_BYTES
//       puts PREFIX<i> = "<i>:" padded to VALUE_BYTES for i = 0, 1, ... forever; after each
//       put returns, prints "<i> <revision>" on its own line (flushed).
// Exit status: 0 on success, 1 on a datastore error, 2 on bad arguments.
#include <cstdio>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "datastore/backend.h"
#include "tests/support/datastore_url.h"

namespace {

using coral::datastore::Backend;

int fail(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "coral-datastore-writer: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(status.message().size()), status.message().data());
  return 1;
}

int increment(Backend& backend, const std::string& key, int count) {
  for (int done = 0; done < count;) {
    auto current = backend.get(key);
    absl::StatusOr<coral::datastore::Revision> revision;
    if (coral::datastore::isNotFound(current.status())) {
      revision = backend.create(key, "1");
      if (coral::datastore::isAlreadyExists(revision.status())) continue;
    } else if (!current.ok()) {
      return fail("get " + key, current.status());
    } else {
      const auto value = coral::parseInt<int64_t>(current->value);
      if (!value) return fail("parse " + key, absl::DataLossError(current->value));
      revision = backend.update(key, std::to_string(*value + 1), current->mod_revision);
      if (coral::datastore::isConflict(revision.status())) continue;
    }
    if (!revision.ok()) return fail("write " + key, revision.status());
    std::printf("%lld\n", static_cast<long long>(*revision));
    std::fflush(stdout);
    ++done;
  }
  return 0;
}

int putLoop(Backend& backend, const std::string& prefix, size_t value_bytes) {
  for (uint64_t i = 0;; ++i) {
    std::string value = std::to_string(i) + ":";
    if (value.size() < value_bytes) value.resize(value_bytes, 'v');
    auto revision = backend.put(prefix + std::to_string(i), value);
    if (!revision.ok()) return fail("put", revision.status());
    std::printf("%llu %lld\n", static_cast<unsigned long long>(i),
                static_cast<long long>(*revision));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: coral-datastore-writer URL increment KEY N\n"
                 "       coral-datastore-writer URL putloop PREFIX VALUE_BYTES\n");
    return 2;
  }
  const std::string mode = argv[2];
  const auto number = coral::parseInt<int64_t>(argv[4]);
  if (!number || *number < 0 || (mode != "increment" && mode != "putloop")) {
    std::fprintf(stderr, "coral-datastore-writer: bad mode %s or number %s\n", argv[2], argv[4]);
    return 2;
  }
  auto backend = coral::testing::openTestBackend(argv[1]);
  if (!backend.ok()) return fail(argv[1], backend.status());
  if (mode == "increment") return increment(**backend, argv[3], static_cast<int>(*number));
  return putLoop(**backend, argv[3], static_cast<size_t>(*number));
}
