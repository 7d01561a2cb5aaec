#include "common/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include <fmt/format.h>

#include "absl/hash/hash.h"
#include "common/strings.h"

namespace coral::common {

std::string_view familyName(Family family) { return family == Family::kV4 ? "IPv4" : "IPv6"; }

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::kV4;
  a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::kV6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::zero(Family family) {
  IpAddress a;
  a.family_ = family;
  return a;
}

absl::StatusOr<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty IP address");
  if (text.size() > INET6_ADDRSTRLEN) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not an IP address", text));
  }
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes_.data()) == 1) {
      a.family_ = Family::kV4;
      return a;
    }
  } else if (inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
    a.family_ = Family::kV6;
    return a;
  }
  return absl::InvalidArgumentError(fmt::format("\"{}\" is not an IP address", text));
}

absl::StatusOr<IpAddress> IpAddress::fromBytes(std::span<const uint8_t> bytes) {
  IpAddress a;
  if (bytes.size() == 4) {
    a.family_ = Family::kV4;
  } else if (bytes.size() == 16) {
    a.family_ = Family::kV6;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("an IP address has 4 or 16 bytes, not {}", bytes.size()));
  }
  std::memcpy(a.bytes_.data(), bytes.data(), bytes.size());
  return a;
}

uint32_t IpAddress::v4Value() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         uint32_t{bytes_[3]};
}

bool IpAddress::isLinkLocal() const {
  if (isV4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::isUnspecified() const {
  for (uint8_t b : bytes()) {
    if (b != 0) return false;
  }
  return true;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

bool IpAddress::bit(int i) const { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }

IpAddress IpAddress::masked(int length) const {
  IpAddress a = *this;
  const int total = bitLength() / 8;
  for (int byte = 0; byte < total; ++byte) {
    const int keep = length - byte * 8;
    if (keep >= 8) continue;
    a.bytes_[byte] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  return a;
}

namespace {
using u128 = unsigned __int128;

u128 toInt(const IpAddress& a) {
  u128 v = 0;
  for (uint8_t b : a.bytes()) v = (v << 8) | b;
  return v;
}

IpAddress fromInt(Family family, u128 v) {
  if (family == Family::kV4) return IpAddress::v4(static_cast<uint32_t>(v));
  std::array<uint8_t, 16> bytes{};
  for (int k = 15; k >= 0; --k, v >>= 8) bytes[k] = static_cast<uint8_t>(v);
  return IpAddress::v6(bytes);
}

u128 maxInt(Family family) { return family == Family::kV4 ? u128{UINT32_MAX} : ~u128{0}; }
}  // namespace

std::optional<IpAddress> IpAddress::plus(uint64_t offset) const {
  const u128 v = toInt(*this);
  if (maxInt(family_) - v < offset) return std::nullopt;
  return fromInt(family_, v + offset);
}

std::optional<uint64_t> IpAddress::distanceFrom(const IpAddress& base) const {
  if (family_ != base.family_ || *this < base) return std::nullopt;
  const u128 d = toInt(*this) - toInt(base);
  if (d > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(d);
}

absl::StatusOr<Prefix> Prefix::make(const IpAddress& address, int length) {
  if (length < 0 || length > address.bitLength()) {
    return absl::InvalidArgumentError(fmt::format("prefix length {} out of range for {} (0-{})",
                                                  length, familyName(address.family()),
                                                  address.bitLength()));
  }
  return Prefix(address.masked(length), length);
}

Prefix Prefix::host(const IpAddress& address) { return Prefix(address, address.bitLength()); }

namespace {
absl::StatusOr<std::pair<IpAddress, int>> splitPrefix(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not a CIDR: {}", text, errorMessage(address.status())));
  }
  if (slash == std::string_view::npos) return std::make_pair(*address, address->bitLength());
  const std::string_view len_text = text.substr(slash + 1);
  const auto length = len_text.size() <= 3 ? parseInt<int>(len_text) : std::nullopt;
  if (!length || *length < 0) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not a CIDR: bad prefix length \"{}\"", text, len_text));
  }
  if (*length > address->bitLength()) {
    return absl::InvalidArgumentError(fmt::format("\"{}\": prefix length {} out of range (0-{})",
                                                  text, *length, address->bitLength()));
  }
  return std::make_pair(*address, *length);
}
}  // namespace

absl::StatusOr<Prefix> Prefix::parse(std::string_view text) {
  auto parts = splitPrefix(text);
  if (!parts.ok()) return parts.status();
  const auto& [address, length] = *parts;
  if (address.masked(length) != address) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" has host bits set (did you mean \"{}/{}\"?)", text,
                    address.masked(length).toString(), length));
  }
  return Prefix(address, length);
}

absl::StatusOr<Prefix> Prefix::parseLoose(std::string_view text) {
  auto parts = splitPrefix(text);
  if (!parts.ok()) return parts.status();
  return Prefix(parts->first.masked(parts->second), parts->second);
}

std::string Prefix::toString() const { return fmt::format("{}/{}", address_.toString(), length_); }

bool Prefix::contains(const IpAddress& address) const {
  return address.family() == family() && address.masked(length_) == address_;
}

bool Prefix::contains(const Prefix& other) const {
  return other.family() == family() && other.length_ >= length_ && contains(other.address_);
}

bool Prefix::overlaps(const Prefix& other) const {
  return contains(other) || other.contains(*this);
}

uint64_t Prefix::numAddresses() const {
  const int host_bits = address_.bitLength() - length_;
  return host_bits >= 64 ? UINT64_MAX : (uint64_t{1} << host_bits);
}

std::optional<IpAddress> Prefix::addressAt(uint64_t index) const {
  const int host_bits = address_.bitLength() - length_;
  if (host_bits < 64 && index >= (uint64_t{1} << host_bits)) return std::nullopt;
  return address_.plus(index);
}

std::optional<uint64_t> Prefix::indexOf(const IpAddress& address) const {
  if (!contains(address)) return std::nullopt;
  return address.distanceFrom(address_);
}

uint64_t Prefix::numSubPrefixes(int sub_length) const {
  if (sub_length < length_ || sub_length > address_.bitLength()) return 0;
  const int bits = sub_length - length_;
  return bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits);
}

std::optional<Prefix> Prefix::subPrefixAt(int sub_length, uint64_t index) const {
  if (index >= numSubPrefixes(sub_length)) return std::nullopt;
  const int shift = address_.bitLength() - sub_length;
  const u128 offset = shift >= 128 ? 0 : (u128{index} << shift);
  return Prefix(fromInt(family(), toInt(address_) + offset), sub_length);
}

IpAddress Prefix::lastAddress() const {
  const int host_bits = address_.bitLength() - length_;
  const u128 host_mask = host_bits >= 128 ? ~u128{0} : ((u128{1} << host_bits) - 1);
  return fromInt(family(), toInt(address_) | host_mask);
}

}  // namespace coral::common

size_t std::hash<coral::common::IpAddress>::operator()(
    const coral::common::IpAddress& a) const noexcept {
  auto b = a.bytes();
  return absl::HashOf(static_cast<int>(a.family()),
                      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

size_t std::hash<coral::common::Prefix>::operator()(const coral::common::Prefix& p) const noexcept {
  return absl::HashOf(std::hash<coral::common::IpAddress>()(p.address()), p.length());
}
