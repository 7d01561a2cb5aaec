// BGP protocol numbers: message types, NOTIFICATION codes and subcodes (RFC 4271
// section 4.5, RFC 4486, RFC 5492, RFC 7313), path attribute type codes and flags,
// capability codes and the address families Coral speaks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coral::bgp {

inline constexpr size_t kHeaderSize = 19;  // 16-byte marker, 2-byte length, 1-byte type
inline constexpr size_t kMaxMessageSize = 4096;
inline constexpr size_t kMarkerSize = 16;
inline constexpr uint8_t kBgpVersion = 4;
inline constexpr uint16_t kAsTrans = 23456;  // RFC 6793

enum class MessageType : uint8_t {
  kOpen = 1,
  kUpdate = 2,
  kNotification = 3,
  kKeepalive = 4,
  kRouteRefresh = 5,
};

// Smallest legal total length (header included) per message type (RFC 4271 4.x).
inline constexpr size_t kMinOpenSize = 29;
inline constexpr size_t kMinUpdateSize = 23;
inline constexpr size_t kMinNotificationSize = 21;
inline constexpr size_t kKeepaliveSize = 19;
inline constexpr size_t kRouteRefreshSize = 23;

// NOTIFICATION error codes (RFC 4271 4.5, RFC 7313).
namespace err {
inline constexpr uint8_t kMessageHeader = 1;
inline constexpr uint8_t kOpenMessage = 2;
inline constexpr uint8_t kUpdateMessage = 3;
inline constexpr uint8_t kHoldTimerExpired = 4;
inline constexpr uint8_t kFsm = 5;
inline constexpr uint8_t kCease = 6;
inline constexpr uint8_t kRouteRefreshMessage = 7;

// Message Header Error subcodes.
inline constexpr uint8_t kConnectionNotSynchronized = 1;
inline constexpr uint8_t kBadMessageLength = 2;
inline constexpr uint8_t kBadMessageType = 3;

// OPEN Message Error subcodes.
inline constexpr uint8_t kUnsupportedVersion = 1;
inline constexpr uint8_t kBadPeerAs = 2;
inline constexpr uint8_t kBadBgpIdentifier = 3;
inline constexpr uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr uint8_t kUnacceptableHoldTime = 6;
inline constexpr uint8_t kUnsupportedCapability = 7;  // RFC 5492

// UPDATE Message Error subcodes.
inline constexpr uint8_t kMalformedAttributeList = 1;
inline constexpr uint8_t kUnrecognizedWellKnown = 2;
inline constexpr uint8_t kMissingWellKnown = 3;
inline constexpr uint8_t kAttributeFlags = 4;
inline constexpr uint8_t kAttributeLength = 5;
inline constexpr uint8_t kInvalidOrigin = 6;
inline constexpr uint8_t kInvalidNextHop = 8;
inline constexpr uint8_t kOptionalAttribute = 9;
inline constexpr uint8_t kInvalidNetworkField = 10;
inline constexpr uint8_t kMalformedAsPath = 11;

// FSM Error subcodes (RFC 6608).
inline constexpr uint8_t kFsmUnspecified = 0;
inline constexpr uint8_t kFsmUnexpectedInOpenSent = 1;
inline constexpr uint8_t kFsmUnexpectedInOpenConfirm = 2;
inline constexpr uint8_t kFsmUnexpectedInEstablished = 3;

// Cease subcodes (RFC 4486, RFC 8538).
inline constexpr uint8_t kCeaseMaxPrefixes = 1;
inline constexpr uint8_t kCeaseAdminShutdown = 2;
inline constexpr uint8_t kCeasePeerDeconfigured = 3;
inline constexpr uint8_t kCeaseAdminReset = 4;
inline constexpr uint8_t kCeaseConnectionRejected = 5;
inline constexpr uint8_t kCeaseOtherConfigChange = 6;
inline constexpr uint8_t kCeaseCollisionResolution = 7;
inline constexpr uint8_t kCeaseOutOfResources = 8;
inline constexpr uint8_t kCeaseHardReset = 9;

// ROUTE-REFRESH Message Error subcodes (RFC 7313).
inline constexpr uint8_t kInvalidRouteRefreshLength = 1;
}  // namespace err

// Path attribute flags (RFC 4271 4.3).
namespace flag {
inline constexpr uint8_t kOptional = 0x80;
inline constexpr uint8_t kTransitive = 0x40;
inline constexpr uint8_t kPartial = 0x20;
inline constexpr uint8_t kExtendedLength = 0x10;
}  // namespace flag

// Path attribute type codes.
enum class AttrCode : uint8_t {
  kOrigin = 1,
  kAsPath = 2,
  kNextHop = 3,
  kMultiExitDisc = 4,
  kLocalPref = 5,
  kAtomicAggregate = 6,
  kAggregator = 7,
  kCommunities = 8,
  kOriginatorId = 9,
  kClusterList = 10,
  kMpReachNlri = 14,
  kMpUnreachNlri = 15,
  kExtendedCommunities = 16,
  kAs4Path = 17,
  kAs4Aggregator = 18,
  kLargeCommunities = 32,
};

// Capability codes (IANA "Capability Codes").
enum class CapabilityCode : uint8_t {
  kMultiprotocol = 1,
  kRouteRefresh = 2,
  kExtendedNextHop = 5,
  kGracefulRestart = 64,
  kFourOctetAs = 65,
  kAddPath = 69,
  kEnhancedRouteRefresh = 70,
};

// Address family and subsequent address family identifiers.
inline constexpr uint16_t kAfiIpv4 = 1;
inline constexpr uint16_t kAfiIpv6 = 2;
inline constexpr uint8_t kSafiUnicast = 1;

// OPEN optional parameter types.
inline constexpr uint8_t kParamCapabilities = 2;

}  // namespace coral::bgp
