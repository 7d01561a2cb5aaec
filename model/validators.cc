#include "model/validators.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "policy/selector/selector.h"

namespace coral::model {

std::optional<common::Prefix> checkCidr(Validation v, std::string_view text) {
  auto prefix = common::Prefix::parse(text);
  if (!prefix.ok()) {
    v.error(errorMessage(prefix.status()));
    return std::nullopt;
  }
  return *prefix;
}

std::optional<common::IpAddress> checkIp(Validation v, std::string_view text) {
  auto ip = common::IpAddress::parse(text);
  if (!ip.ok()) {
    v.error(errorMessage(ip.status()));
    return std::nullopt;
  }
  return *ip;
}

void checkIpWithOptionalLength(Validation v, std::string_view text) {
  if (text.find('/') == std::string_view::npos) {
    checkIp(v, text);
    return;
  }
  auto prefix = common::Prefix::parseLoose(text);
  if (!prefix.ok()) v.error(errorMessage(prefix.status()));
}

void checkSelector(Validation v, std::string_view text) {
  auto selector = policy::Selector::parse(text);
  if (!selector.ok()) v.error(errorMessage(selector.status()));
}

void checkCommunity(Validation v, std::string_view text) {
  auto parts = split(text, ':');
  if (parts.size() == 2) {
    for (auto p : parts) {
      if (!parseInt<uint16_t>(p)) {
        v.error(fmt::format("\"{}\" is not a community: each part of aa:nn is 0-65535", text));
        return;
      }
    }
    return;
  }
  if (parts.size() == 3) {
    for (auto p : parts) {
      if (!parseInt<uint32_t>(p)) {
        v.error(fmt::format(
            "\"{}\" is not a large community: each part of aa:nn:mm is 0-4294967295", text));
        return;
      }
    }
    return;
  }
  v.error(fmt::format("\"{}\" is not a community (aa:nn or aa:nn:mm)", text));
}

void checkMac(Validation v, std::string_view text) {
  auto parts = split(text, ':');
  bool ok = parts.size() == 6;
  for (auto p : parts) {
    ok = ok && p.size() == 2 && std::isxdigit(static_cast<unsigned char>(p[0])) &&
         std::isxdigit(static_cast<unsigned char>(p[1]));
  }
  if (!ok) v.error(fmt::format("\"{}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", text));
}

}  // namespace coral::model
