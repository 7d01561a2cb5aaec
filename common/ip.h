// IpAddress and Prefix: small IPv4/IPv6 value types with parse/format, ordering,
// hashing, containment and iteration over addresses and sub-prefixes.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace coral::common {

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

std::string_view familyName(Family family);

class IpAddress {
 public:
  // 0.0.0.0
  IpAddress() = default;

  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  // "10.1.2.3" or "fd00::1"; no zone ids, no surrounding spaces.
  static absl::StatusOr<IpAddress> parse(std::string_view text);
  // 4 bytes are IPv4, 16 bytes IPv6 (network order).
  static absl::StatusOr<IpAddress> fromBytes(std::span<const uint8_t> bytes);
  // All-zero address of a family.
  static IpAddress zero(Family family);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  bool isV6() const { return family_ == Family::kV6; }
  int bitLength() const { return isV4() ? 32 : 128; }
  std::span<const uint8_t> bytes() const { return {bytes_.data(), isV4() ? 4u : 16u}; }
  uint32_t v4Value() const;  // host order; IPv4 only
  bool isLinkLocal() const;
  bool isUnspecified() const;

  std::string toString() const;

  // Bit i counted from the most significant bit (0 = first bit).
  bool bit(int i) const;
  // The address with all bits after the first `length` cleared.
  IpAddress masked(int length) const;
  // This address plus `offset`; nullopt when it leaves the address space.
  std::optional<IpAddress> plus(uint64_t offset) const;
  // (this - base) when this >= base and the difference fits in 64 bits.
  std::optional<uint64_t> distanceFrom(const IpAddress& base) const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4
};

class Prefix {
 public:
  Prefix() = default;  // 0.0.0.0/0

  // Host bits are cleared: Prefix(10.0.0.1, 24) is 10.0.0.0/24. Length must be valid.
  static absl::StatusOr<Prefix> make(const IpAddress& address, int length);
  // "10.0.0.0/24"; a bare address is a host prefix (/32 or /128). Host bits set after
  // the length are an error: "10.0.0.1/24" is rejected, so a typo is not silently widened.
  static absl::StatusOr<Prefix> parse(std::string_view text);
  // As parse, but host bits are cleared instead of rejected.
  static absl::StatusOr<Prefix> parseLoose(std::string_view text);
  static Prefix host(const IpAddress& address);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  Family family() const { return address_.family(); }
  bool isV4() const { return address_.isV4(); }
  bool isV6() const { return address_.isV6(); }
  bool isHost() const { return length_ == address_.bitLength(); }

  std::string toString() const;

  bool contains(const IpAddress& address) const;
  bool contains(const Prefix& other) const;
  bool overlaps(const Prefix& other) const;

  // Number of addresses, saturated at UINT64_MAX for very large IPv6 prefixes.
  uint64_t numAddresses() const;
  // The i-th address (0 = network address); nullopt when i is out of range.
  std::optional<IpAddress> addressAt(uint64_t index) const;
  // Offset of `address` inside this prefix; nullopt when outside or not representable.
  std::optional<uint64_t> indexOf(const IpAddress& address) const;
  // Sub-prefixes of length `sub_length` (>= length()): how many (saturated), and the i-th.
  uint64_t numSubPrefixes(int sub_length) const;
  std::optional<Prefix> subPrefixAt(int sub_length, uint64_t index) const;
  // Last address of the prefix (broadcast for IPv4).
  IpAddress lastAddress() const;

  friend auto operator<=>(const Prefix&, const Prefix&) = default;
  friend bool operator==(const Prefix&, const Prefix&) = default;

 private:
  Prefix(const IpAddress& address, int length) : address_(address), length_(length) {}
  IpAddress address_;
  int length_ = 0;
};

}  // namespace coral::common

template <>
struct std::hash<coral::common::IpAddress> {
  size_t operator()(const coral::common::IpAddress& a) const noexcept;
};
template <>
struct std::hash<coral::common::Prefix> {
  size_t operator()(const coral::common::Prefix& p) const noexcept;
};
