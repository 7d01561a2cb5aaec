// UPDATE validation: the checks that need the whole attribute set or the session
// (RFC 4271 6.3, RFC 7606, RFC 6793), run after the per-attribute decode. Missing
// mandatory attributes, eBGP-only rules (empty AS_PATH, neighbour AS first, LOCAL_PREF,
// route-reflection attributes), NEXT_HOP semantics, and the AS4_PATH/AS4_AGGREGATOR merge.
#pragma once

#include "bgp/wire/attribute_table.h"
#include "bgp/wire/context.h"
#include "bgp/wire/errors.h"

namespace coral::bgp {

// `has_ipv4_nlri`: the classic NLRI field is not empty. Appends errors and fixes up
// `decoded` in place (discarded attributes are removed, the AS4 merge applied).
void validateUpdateAttributes(DecodedAttributes& decoded, bool has_ipv4_nlri,
                              const SessionContext& ctx, WireErrors& errors);

}  // namespace coral::bgp
