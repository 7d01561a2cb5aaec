// The CNI error JSON.
#include "cni/error.h"

#include <nlohmann/json.hpp>

namespace coral::cni {

std::string formatError(const CniError& error, std::string_view cni_version) {
  nlohmann::ordered_json out;
  out["cniVersion"] = std::string(cni_version);
  out["code"] = error.code;
  out["msg"] = error.msg;
  if (!error.details.empty()) out["details"] = error.details;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coral::cni
