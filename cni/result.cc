// Parsing and per-version formatting of CNI results.
#include "cni/result.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cni/version.h"
#include "common/ip.h"
#include "common/strings.h"

namespace coral::cni {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

CniError invalid(std::string msg) {
  return makeError(kInvalidNetworkConfig, "invalid prevResult", std::move(msg));
}

// "10.0.0.5/24" (host bits allowed, as in CNI results); returns the family or an error.
CniOr<common::Family> checkCidr(std::string_view text, std::string_view what) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return invalid(fmt::format("{} \"{}\" is not in CIDR notation", what, text));
  }
  auto address = common::IpAddress::parse(text.substr(0, slash));
  const auto length = parseInt<int>(text.substr(slash + 1));
  if (!address.ok() || !length || *length < 0 || *length > address->bitLength()) {
    return invalid(fmt::format("{} \"{}\" is not a valid CIDR", what, text));
  }
  return address->family();
}

CniOr<bool> checkAddress(std::string_view text, std::string_view what) {
  if (!common::IpAddress::parse(text).ok()) {
    return invalid(fmt::format("{} \"{}\" is not an IP address", what, text));
  }
  return true;
}

// Reads an optional string member; a present member of another type is an error.
CniOr<std::string> optString(const Json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalid(fmt::format("{}.{} must be a string", where, key));
  return it->get<std::string>();
}

CniOr<std::vector<std::string>> optStrings(const Json& object, const char* key,
                                           std::string_view where) {
  std::vector<std::string> out;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid(fmt::format("{}.{} must be an array", where, key));
  for (const Json& item : *it) {
    if (!item.is_string()) {
      return invalid(fmt::format("{}.{} must hold strings", where, key));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

const Json* optArray(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

#define CNI_CONCAT_INNER_(a, b) a##b
#define CNI_CONCAT_(a, b) CNI_CONCAT_INNER_(a, b)
#define CNI_ASSIGN_OR_RETURN(lhs, expr) \
  CNI_ASSIGN_OR_RETURN_IMPL_(CNI_CONCAT_(cni_or_, __LINE__), lhs, expr)
#define CNI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.error();               \
  lhs = std::move(tmp).value()

CniOr<Result> parseResultJson(const Json& doc, std::string_view cni_version) {
  Result result;
  if (!doc.is_object()) return invalid("prevResult must be a JSON object");
  if (const Json* list = optArray(doc, "interfaces")) {
    if (!list->is_array()) return invalid("prevResult.interfaces must be an array");
    for (const Json& item : *list) {
      if (!item.is_object()) return invalid("prevResult.interfaces must hold objects");
      Interface iface;
      CNI_ASSIGN_OR_RETURN(iface.name, optString(item, "name", "interfaces[]"));
      CNI_ASSIGN_OR_RETURN(iface.mac, optString(item, "mac", "interfaces[]"));
      CNI_ASSIGN_OR_RETURN(iface.sandbox, optString(item, "sandbox", "interfaces[]"));
      if (iface.name.empty()) return invalid("prevResult.interfaces[].name is missing");
      if (const auto mtu = item.find("mtu"); mtu != item.end() && !mtu->is_null()) {
        if (!mtu->is_number_unsigned() || mtu->get<uint64_t>() > 65535) {
          return invalid("prevResult.interfaces[].mtu must be an integer 0..65535");
        }
        iface.mtu = mtu->get<uint32_t>();
      }
      result.interfaces.push_back(std::move(iface));
    }
  }
  if (const Json* list = optArray(doc, "ips")) {
    if (!list->is_array()) return invalid("prevResult.ips must be an array");
    for (const Json& item : *list) {
      if (!item.is_object()) return invalid("prevResult.ips must hold objects");
      IpConfig ip;
      std::string version;
      CNI_ASSIGN_OR_RETURN(ip.address, optString(item, "address", "ips[]"));
      CNI_ASSIGN_OR_RETURN(ip.gateway, optString(item, "gateway", "ips[]"));
      CNI_ASSIGN_OR_RETURN(version, optString(item, "version", "ips[]"));
      common::Family family;
      CNI_ASSIGN_OR_RETURN(family, checkCidr(ip.address, "ips[].address"));
      if (!ip.gateway.empty()) {
        auto gateway_ok = checkAddress(ip.gateway, "ips[].gateway");
        if (!gateway_ok.ok()) return gateway_ok.error();
      }
      if (resultHasIpVersion(cni_version)) {
        const std::string want = family == common::Family::kV4 ? "4" : "6";
        if (version != want) {
          return invalid(fmt::format("ips[].version \"{}\" does not match address \"{}\"", version,
                                     ip.address));
        }
      }
      if (const auto index = item.find("interface"); index != item.end() && !index->is_null()) {
        if (!index->is_number_integer() || index->get<int64_t>() < 0 ||
            index->get<int64_t>() >= static_cast<int64_t>(result.interfaces.size())) {
          return invalid(
              fmt::format("ips[].interface of \"{}\" is not an index into interfaces", ip.address));
        }
        ip.interface = index->get<int>();
      }
      result.ips.push_back(std::move(ip));
    }
  }
  if (const Json* list = optArray(doc, "routes")) {
    if (!list->is_array()) return invalid("prevResult.routes must be an array");
    for (const Json& item : *list) {
      if (!item.is_object()) return invalid("prevResult.routes must hold objects");
      Route route;
      CNI_ASSIGN_OR_RETURN(route.dst, optString(item, "dst", "routes[]"));
      CNI_ASSIGN_OR_RETURN(route.gw, optString(item, "gw", "routes[]"));
      auto dst_ok = checkCidr(route.dst, "routes[].dst");
      if (!dst_ok.ok()) return dst_ok.error();
      if (!route.gw.empty()) {
        auto gw_ok = checkAddress(route.gw, "routes[].gw");
        if (!gw_ok.ok()) return gw_ok.error();
      }
      result.routes.push_back(std::move(route));
    }
  }
  if (const auto dns = doc.find("dns"); dns != doc.end() && !dns->is_null()) {
    if (!dns->is_object()) return invalid("prevResult.dns must be an object");
    CNI_ASSIGN_OR_RETURN(result.dns.nameservers, optStrings(*dns, "nameservers", "dns"));
    CNI_ASSIGN_OR_RETURN(result.dns.domain, optString(*dns, "domain", "dns"));
    CNI_ASSIGN_OR_RETURN(result.dns.search, optStrings(*dns, "search", "dns"));
    CNI_ASSIGN_OR_RETURN(result.dns.options, optStrings(*dns, "options", "dns"));
  }
  return result;
}

#undef CNI_ASSIGN_OR_RETURN
#undef CNI_ASSIGN_OR_RETURN_IMPL_

}  // namespace

CniOr<Result> parseResult(std::string_view json, std::string_view cni_version) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("prevResult is not valid JSON");
  return parseResultJson(doc, cni_version);
}

std::string formatResult(const Result& result, std::string_view cni_version) {
  const bool ip_version = resultHasIpVersion(cni_version);
  const bool interface_mtu = compareVersions(cni_version, "1.1.0") >= 0;
  OrderedJson out;
  out["cniVersion"] = std::string(cni_version);
  if (!result.interfaces.empty()) {
    auto& list = out["interfaces"] = OrderedJson::array();
    for (const Interface& iface : result.interfaces) {
      OrderedJson item;
      item["name"] = iface.name;
      if (!iface.mac.empty()) item["mac"] = iface.mac;
      if (interface_mtu && iface.mtu) item["mtu"] = *iface.mtu;
      if (!iface.sandbox.empty()) item["sandbox"] = iface.sandbox;
      list.push_back(std::move(item));
    }
  }
  if (!result.ips.empty()) {
    auto& list = out["ips"] = OrderedJson::array();
    for (const IpConfig& ip : result.ips) {
      OrderedJson item;
      if (ip_version) {
        item["version"] = ip.address.find(':') == std::string::npos ? "4" : "6";
      }
      if (ip.interface) item["interface"] = *ip.interface;
      item["address"] = ip.address;
      if (!ip.gateway.empty()) item["gateway"] = ip.gateway;
      list.push_back(std::move(item));
    }
  }
  if (!result.routes.empty()) {
    auto& list = out["routes"] = OrderedJson::array();
    for (const Route& route : result.routes) {
      OrderedJson item;
      item["dst"] = route.dst;
      if (!route.gw.empty()) item["gw"] = route.gw;
      list.push_back(std::move(item));
    }
  }
  // Always present, as the reference plugins print it: {} when there is nothing to say.
  OrderedJson dns = OrderedJson::object();
  if (!result.dns.nameservers.empty()) dns["nameservers"] = result.dns.nameservers;
  if (!result.dns.domain.empty()) dns["domain"] = result.dns.domain;
  if (!result.dns.search.empty()) dns["search"] = result.dns.search;
  if (!result.dns.options.empty()) dns["options"] = result.dns.options;
  out["dns"] = std::move(dns);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coral::cni
