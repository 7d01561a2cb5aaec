// The file backend's on-disk encodings: log records (one change each, framed with a
// length and a CRC32 so a torn tail is detectable) and the snapshot that a compaction
// writes. Pure functions over bytes; no I/O. The format is described in README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "datastore/backend.h"

namespace coral::datastore::file {

enum class RecordOp : uint8_t {
  kPut = 1,
  kDelete = 2,
  kLeaseGrant = 3,
  kLeaseKeepAlive = 4,
  kLeaseRevoke = 5,
};

// One change. Every record has a sequence number (strictly increasing over the store's
// life, also for lease records) and the store revision after it is applied (put and
// delete increment the revision; lease records carry the current one unchanged).
struct Record {
  RecordOp op = RecordOp::kPut;
  uint64_t seq = 0;
  Revision revision = 0;
  Revision create_revision = 0;  // kPut
  LeaseId lease = 0;             // kPut (0: none) and lease records
  int64_t ttl_ms = 0;            // kLeaseGrant
  int64_t expiry_unix_ms = 0;    // kLeaseGrant, kLeaseKeepAlive
  std::string key;               // kPut, kDelete
  std::string value;             // kPut
  bool operator==(const Record&) const = default;
};

// Frame: u32 payload length, u32 CRC32 of the payload, payload (little endian).
inline constexpr size_t kFrameHeaderBytes = 8;
// Upper bound of one payload; a longer length field means a torn or corrupt frame.
inline constexpr uint32_t kMaxPayloadBytes = 64u << 20;

uint32_t crc32(std::string_view data, uint32_t seed = 0);

// Appends the framed record to `out`.
void encodeRecord(const Record& record, std::string* out);

enum class DecodeResult {
  kOk,          // a record was decoded; *consumed is its framed size
  kIncomplete,  // the bytes end inside a frame (a writer may still be appending)
  kCorrupt,     // bad length or CRC or payload: a torn write, or garbage
};
// Decodes the frame at the start of `bytes`.
DecodeResult decodeRecord(std::string_view bytes, Record* record, size_t* consumed);

struct LeaseState {
  int64_t ttl_ms = 0;
  int64_t expiry_unix_ms = 0;
  bool operator==(const LeaseState&) const = default;
};

// The state a snapshot stores: every key and lease as of `revision`, plus what the log
// after it needs: the first revision with history (compact_revision), the sequence number
// of the last folded record and the next lease id.
struct Snapshot {
  Revision revision = 0;
  Revision compact_revision = 0;
  uint64_t seq = 0;
  LeaseId next_lease_id = 1;
  std::map<std::string, KeyValue, std::less<>> kvs;
  std::map<LeaseId, LeaseState> leases;
  bool operator==(const Snapshot&) const = default;
};

std::string encodeSnapshot(const Snapshot& snapshot);
// `name` is used in error messages (the file name).
absl::StatusOr<Snapshot> decodeSnapshot(std::string_view bytes, std::string_view name);

}  // namespace coral::datastore::file
