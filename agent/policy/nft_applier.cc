// libnftables implementation of NftApplier (see nft_applier.h).
#include "agent/policy/nft_applier.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <optional>

#include "agent/dataplane/netns.h"
#include "policy/nftables.h"

namespace coral::agent {
namespace {

struct NftCtxDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using NftCtxPtr = std::unique_ptr<nft_ctx, NftCtxDeleter>;

std::string firstLines(std::string_view text, size_t max_chars = 2000) {
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "...";
}

// One command batch on a fresh context; returns the buffered output.
absl::StatusOr<std::string> runOnce(const std::string& commands, unsigned output_flags,
                                    const char* what) {
  NftCtxPtr ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return absl::InternalError("libnftables: nft_ctx_new failed");
  nft_ctx_output_set_flags(ctx.get(), output_flags);
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  const int rc = nft_run_cmd_from_buffer(ctx.get(), commands.c_str());
  if (rc != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx.get());
    const std::string message = err ? err : "";
    const std::string text = fmt::format("nftables {}: {}", what, firstLines(message));
    if (message.find("No such file or directory") != std::string::npos) {
      return absl::NotFoundError(text);
    }
    return absl::FailedPreconditionError(text);
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  return std::string(out ? out : "");
}

class LibNftApplier : public NftApplier {
 public:
  explicit LibNftApplier(std::optional<NetnsFd> netns) : netns_(std::move(netns)) {}

  absl::Status run(const std::string& commands) override {
    return inNamespace(
               [&]() -> absl::StatusOr<std::string> { return runOnce(commands, 0, "transaction"); })
        .status();
  }

  absl::StatusOr<std::string> listTableJson(bool stateless) override {
    unsigned flags = NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;
    if (stateless) flags |= NFT_CTX_OUTPUT_STATELESS;
    const std::string cmd = fmt::format("list table inet {}", policy::kNftTable);
    return inNamespace([&] { return runOnce(cmd, flags, "list table"); });
  }

 private:
  template <typename Fn>
  absl::StatusOr<std::string> inNamespace(Fn fn) {
    if (!netns_) return fn();
    absl::StatusOr<std::string> result;
    absl::Status status = runInNetns(*netns_, [&] {
      result = fn();
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return result;
  }

  std::optional<NetnsFd> netns_;
};

}  // namespace

absl::StatusOr<NftApplierPtr> makeLibNftApplier(const std::string& netns_path) {
  std::optional<NetnsFd> netns;
  if (!netns_path.empty()) {
    auto fd = NetnsFd::open(netns_path);
    if (!fd.ok()) return fd.status();
    netns.emplace(std::move(*fd));
  }
  return NftApplierPtr(new LibNftApplier(std::move(netns)));
}

}  // namespace coral::agent
