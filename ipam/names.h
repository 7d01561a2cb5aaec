// Datastore names of the records IPAM keeps: IPAMBlock "10-244-0-64-26", BlockAffinity
// "<node>-<block name>", IPAMHandle named after its handle id. Names are DNS-1123
// subdomains, so anything else in an id is folded and a hash keeps the name unique.
#pragma once

#include <string>
#include <string_view>

#include "common/ip.h"

namespace coral::ipam {

// "10.244.0.64/26" → "10-244-0-64-26"; "fd00:10::/122" → "fd00-10---122".
std::string blockName(const common::Prefix& block);
// The BlockAffinity of `node` for `block`.
std::string affinityName(std::string_view node, const common::Prefix& block);
// The handle id of one CNI attachment: "<container id>.<interface>".
std::string handleIdFor(std::string_view container_id, std::string_view ifname);
// The IPAMHandle resource name of a handle id: the id itself when it is a valid name,
// else the id folded to [a-z0-9.-] plus "-" and 8 hex digits of a hash of the real id.
std::string handleName(std::string_view handle_id);
// "host:<node>", the IPAMBlock.spec.affinity of a node's block.
std::string hostAffinity(std::string_view node);
// The node of "host:<node>", or empty.
std::string_view affinityNode(std::string_view affinity);

}  // namespace coral::ipam
