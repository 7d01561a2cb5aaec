// Encoding and decoding of log records and snapshots (see record.h and README.md).
#include "datastore/file/record.h"

#include <array>
#include <cstring>

#include "fmt/format.h"

namespace coral::datastore::file {
namespace {

constexpr std::string_view kSnapshotMagic = "CORALSNP";
constexpr uint32_t kSnapshotVersion = 1;

std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

void putU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
void putU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putI64(std::string* out, int64_t v) { putU64(out, static_cast<uint64_t>(v)); }
void putBytes(std::string* out, std::string_view s) {
  putU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

uint32_t readU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Bounds-checked reader over a payload; any short read marks it failed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == data_.size(); }
  uint8_t u8() { return need(1) ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint32_t u32() {
    if (!need(4)) return 0;
    const uint32_t v = readU32(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  std::string bytes() {
    const uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool validOp(uint8_t op) {
  return op >= static_cast<uint8_t>(RecordOp::kPut) &&
         op <= static_cast<uint8_t>(RecordOp::kLeaseRevoke);
}

}  // namespace

uint32_t crc32(std::string_view data, uint32_t seed) {
  static const std::array<uint32_t, 256> table = makeCrcTable();
  uint32_t c = seed ^ 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void encodeRecord(const Record& r, std::string* out) {
  std::string payload;
  payload.reserve(64 + r.key.size() + r.value.size());
  putU8(&payload, static_cast<uint8_t>(r.op));
  putU64(&payload, r.seq);
  putI64(&payload, r.revision);
  putI64(&payload, r.create_revision);
  putI64(&payload, r.lease);
  putI64(&payload, r.ttl_ms);
  putI64(&payload, r.expiry_unix_ms);
  putBytes(&payload, r.key);
  putBytes(&payload, r.value);
  putU32(out, static_cast<uint32_t>(payload.size()));
  putU32(out, crc32(payload));
  out->append(payload);
}

DecodeResult decodeRecord(std::string_view bytes, Record* record, size_t* consumed) {
  if (bytes.size() < kFrameHeaderBytes) return DecodeResult::kIncomplete;
  const uint32_t length = readU32(bytes.data());
  const uint32_t crc = readU32(bytes.data() + 4);
  if (length == 0 || length > kMaxPayloadBytes) return DecodeResult::kCorrupt;
  if (bytes.size() - kFrameHeaderBytes < length) return DecodeResult::kIncomplete;
  const std::string_view payload = bytes.substr(kFrameHeaderBytes, length);
  if (crc32(payload) != crc) return DecodeResult::kCorrupt;
  Reader in(payload);
  const uint8_t op = in.u8();
  if (!validOp(op)) return DecodeResult::kCorrupt;
  record->op = static_cast<RecordOp>(op);
  record->seq = in.u64();
  record->revision = in.i64();
  record->create_revision = in.i64();
  record->lease = in.i64();
  record->ttl_ms = in.i64();
  record->expiry_unix_ms = in.i64();
  record->key = in.bytes();
  record->value = in.bytes();
  if (!in.ok() || !in.atEnd()) return DecodeResult::kCorrupt;
  *consumed = kFrameHeaderBytes + length;
  return DecodeResult::kOk;
}

std::string encodeSnapshot(const Snapshot& s) {
  std::string body;
  putI64(&body, s.revision);
  putI64(&body, s.compact_revision);
  putU64(&body, s.seq);
  putI64(&body, s.next_lease_id);
  putU64(&body, s.kvs.size());
  for (const auto& [key, kv] : s.kvs) {
    putBytes(&body, key);
    putBytes(&body, kv.value);
    putI64(&body, kv.create_revision);
    putI64(&body, kv.mod_revision);
    putI64(&body, kv.lease);
  }
  putU64(&body, s.leases.size());
  for (const auto& [id, lease] : s.leases) {
    putI64(&body, id);
    putI64(&body, lease.ttl_ms);
    putI64(&body, lease.expiry_unix_ms);
  }
  std::string out(kSnapshotMagic);
  putU32(&out, kSnapshotVersion);
  putU64(&out, body.size());
  putU32(&out, crc32(body));
  out += body;
  return out;
}

absl::StatusOr<Snapshot> decodeSnapshot(std::string_view bytes, std::string_view name) {
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(fmt::format("snapshot {}: {}", name, why));
  };
  const size_t header = kSnapshotMagic.size() + 4 + 8 + 4;
  if (bytes.size() < header || bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    return corrupt("not a Coral snapshot (bad magic)");
  }
  Reader head(bytes.substr(kSnapshotMagic.size(), header - kSnapshotMagic.size()));
  const uint32_t version = head.u32();
  const uint64_t length = head.u64();
  const uint32_t crc = head.u32();
  if (version != kSnapshotVersion) return corrupt(fmt::format("unknown version {}", version));
  if (bytes.size() - header != length) {
    return corrupt(fmt::format("length {} but {} bytes follow", length, bytes.size() - header));
  }
  const std::string_view body = bytes.substr(header);
  if (crc32(body) != crc) return corrupt("CRC mismatch");
  Reader in(body);
  Snapshot s;
  s.revision = in.i64();
  s.compact_revision = in.i64();
  s.seq = in.u64();
  s.next_lease_id = in.i64();
  const uint64_t num_kvs = in.u64();
  for (uint64_t i = 0; i < num_kvs && in.ok(); ++i) {
    KeyValue kv;
    kv.key = in.bytes();
    kv.value = in.bytes();
    kv.create_revision = in.i64();
    kv.mod_revision = in.i64();
    kv.lease = in.i64();
    std::string key = kv.key;
    s.kvs.emplace(std::move(key), std::move(kv));
  }
  const uint64_t num_leases = in.u64();
  for (uint64_t i = 0; i < num_leases && in.ok(); ++i) {
    const LeaseId id = in.i64();
    LeaseState lease;
    lease.ttl_ms = in.i64();
    lease.expiry_unix_ms = in.i64();
    s.leases.emplace(id, lease);
  }
  if (!in.ok() || !in.atEnd()) return corrupt("truncated or trailing bytes in body");
  return s;
}

}  // namespace coral::datastore::file
