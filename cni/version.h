// The CNI spec versions coral-cni speaks, their ordering, and the VERSION command's output.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace coral::cni {

// Oldest first. 0.1.0/0.2.0 (the ip4/ip6 result shape) are not supported.
std::span<const std::string_view> supportedVersions();
// The newest supported version; errors that happen before the request's version is known
// are tagged with it.
std::string_view latestVersion();
bool isSupportedVersion(std::string_view version);

// Compares two "major.minor.patch" strings numerically; unparseable parts count as 0.
// Negative, zero or positive like strcmp.
int compareVersions(std::string_view a, std::string_view b);

// 0.3.x and 0.4.0 results tag each ip with "version": "4"|"6"; 1.0.0 dropped it.
inline bool resultHasIpVersion(std::string_view version) {
  return compareVersions(version, "1.0.0") < 0;
}
// CHECK exists from 0.4.0, STATUS and GC from 1.1.0.
inline bool supportsCheck(std::string_view version) {
  return compareVersions(version, "0.4.0") >= 0;
}
inline bool supportsStatusAndGc(std::string_view version) {
  return compareVersions(version, "1.1.0") >= 0;
}

// The VERSION command's answer: {"cniVersion": <version>, "supportedVersions": [...]}.
std::string formatVersionInfo(std::string_view cni_version);

}  // namespace coral::cni
