// AS_PATH / AS4_PATH wire codec (RFC 4271 4.3, RFC 5065, RFC 6793): segments of 2- or
// 4-octet AS numbers, the 2-octet rendering with AS_TRANS, and the merge of AS_PATH with
// AS4_PATH received from a speaker without the 4-octet capability.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/wire/attributes.h"

namespace coral::bgp {

// Decodes segments of `as_size` (2 or 4) octet AS numbers. Errors (all "malformed
// AS_PATH"): a bad segment type, a zero-length segment, a segment running past the end.
absl::StatusOr<AsPath> decodeAsPath(std::span<const uint8_t> value, int as_size);

// Encodes with 4- or 2-octet AS numbers; in 2-octet form ASes above 65535 become AS_TRANS.
// Segments longer than 255 ASes are split.
void encodeAsPath(std::vector<uint8_t>& out, const AsPath& path, int as_size);

// Whether a 2-octet peer needs an AS4_PATH to see the true path.
bool needsAs4Path(const AsPath& path);
// The AS4_PATH to send beside a 2-octet AS_PATH: the path without confed segments.
AsPath as4PathOf(const AsPath& path);

// RFC 6793 4.2.3: rebuild the true path from AS_PATH and AS4_PATH. When AS_PATH has fewer
// ASes than AS4_PATH, AS4_PATH is ignored; otherwise the leading ASes of AS_PATH that
// AS4_PATH does not cover are kept and AS4_PATH appended.
AsPath mergeAs4Path(const AsPath& as_path, const AsPath& as4_path);

}  // namespace coral::bgp
