// Field checks shared by several kinds: addresses, CIDRs, selectors, AS numbers,
// communities. Each records its error at the Validation scope it is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "model/field.h"

namespace coral::model {

// Strict CIDR ("10.0.0.0/24"); returns the prefix when valid.
std::optional<common::Prefix> checkCidr(Validation v, std::string_view text);
std::optional<common::IpAddress> checkIp(Validation v, std::string_view text);
// An address with or without a prefix length ("10.0.0.1" or "10.0.0.1/24").
void checkIpWithOptionalLength(Validation v, std::string_view text);
// Calico selector syntax (policy/selector); empty means all().
void checkSelector(Validation v, std::string_view text);
// "aa:nn" (standard, 16-bit each) or "aa:nn:mm" (large, 32-bit each).
void checkCommunity(Validation v, std::string_view text);
// MAC address "aa:bb:cc:dd:ee:ff".
void checkMac(Validation v, std::string_view text);

}  // namespace coral::model
