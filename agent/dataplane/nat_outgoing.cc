#include "agent/dataplane/nat_outgoing.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <memory>

#include "common/strings.h"

namespace coral::agent {
namespace {

std::string elements(const std::vector<common::Prefix>& prefixes, common::Family family) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) {
    if (p.family() == family) out.push_back(p.toString());
  }
  return join(out, ", ");
}

void renderFamily(std::string& out, const NatOutgoingSpec& spec, common::Family family) {
  const bool v4 = family == common::Family::kV4;
  const char* nft_family = v4 ? "ip" : "ip6";
  // "add" then "delete" removes the table whether or not it existed, in the same
  // transaction that writes it again: no moment without the rule.
  out += fmt::format("add table {0} {1}\ndelete table {0} {1}\n", nft_family, kNatTable);
  const std::string nat = elements(spec.nat_pools, family);
  if (nat.empty()) return;
  const std::string all = elements(spec.pools, family);
  const char* type = v4 ? "ipv4_addr" : "ipv6_addr";
  out += fmt::format("table {} {} {{\n", nft_family, kNatTable);
  out += fmt::format(
      "  set pools {{\n    type {}\n    flags interval\n    elements = {{ {} }}\n  }}\n", type,
      all.empty() ? nat : all);
  out += fmt::format(
      "  set nat-pools {{\n    type {}\n    flags interval\n    elements = {{ {} }}\n  }}\n", type,
      nat);
  out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  out +=
      fmt::format("    {0} saddr @nat-pools {0} daddr != @pools counter masquerade\n", nft_family);
  out += "  }\n}\n";
}

struct NftCtxDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

}  // namespace

std::string renderNatOutgoing(const NatOutgoingSpec& spec) {
  std::string out;
  renderFamily(out, spec, common::Family::kV4);
  renderFamily(out, spec, common::Family::kV6);
  return out;
}

absl::Status NatOutgoing::apply(const NatOutgoingSpec& spec, bool force) {
  if (applied_ && spec == last_ && !force) return absl::OkStatus();
  std::unique_ptr<nft_ctx, NftCtxDeleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return absl::InternalError("libnftables: nft_ctx_new failed");
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  const std::string script = renderNatOutgoing(spec);
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx.get());
    return absl::FailedPreconditionError(
        fmt::format("nftables table {}: {}", kNatTable, err ? err : "failed"));
  }
  applied_ = true;
  last_ = spec;
  return absl::OkStatus();
}

}  // namespace coral::agent
