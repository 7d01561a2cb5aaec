// NftnlWriter (see nftnl_writer.h): endpoint-only policy changes as one nf_tables batch.
#include "agent/policy/nftnl_writer.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "agent/dataplane/netns.h"
#include "policy/nftables.h"

namespace coral::agent {
namespace {

using policy::EndpointRule;

constexpr uint32_t kMarkBits = policy::kAcceptMark | policy::kPassMark;
// Beyond these a change goes as nft text (see handles()).
constexpr size_t kMaxEndpoints = 64;
constexpr size_t kMaxElementMessages = 1024;

template <typename T, void (*Free)(const T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using RulePtr = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule, nftnl_rule_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain, nftnl_chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Deleter<nftnl_set, nftnl_set_free>>;

// A batch of messages being built, with what each one does (for error messages).
class Batch {
 public:
  Batch() : buffer_(kInitialSize) {}

  // Room for one more message of at most `bytes`.
  char* next(size_t bytes) {
    if (used_ + bytes + kSlack > buffer_.size()) buffer_.resize((used_ + bytes + kSlack) * 2);
    return buffer_.data() + used_;
  }
  void commit(const nlmsghdr* nlh, std::string what) {
    used_ += NLMSG_ALIGN(nlh->nlmsg_len);
    if (!what.empty()) what_[nlh->nlmsg_seq] = std::move(what);
  }
  uint32_t seq() { return seq_++; }
  const char* data() const { return buffer_.data(); }
  size_t size() const { return used_; }
  size_t messages() const { return what_.size(); }
  std::string describe(uint32_t seq) const {
    auto it = what_.find(seq);
    return it == what_.end() ? fmt::format("message {}", seq) : it->second;
  }

 private:
  static constexpr size_t kInitialSize = 64 * 1024;
  static constexpr size_t kSlack = 4096;
  std::vector<char> buffer_;
  size_t used_ = 0;
  uint32_t seq_ = 1;
  std::map<uint32_t, std::string> what_;
};

constexpr const char* kTable = policy::kNftTable;

// No message asks for an acknowledgement (NLM_F_ACK). The kernel still answers a message
// that fails, and the batch end when the commit fails. One ack per message overran the
// socket's receive buffer on large batches (a consolidation of dozens of pods is thousands
// of rule messages): answers were dropped (ENOBUFS) and the count of acks never reached.
nlmsghdr* header(Batch& b, uint16_t type, uint16_t flags, size_t payload) {
  return nftnl_nlmsg_build_hdr(b.next(payload + 256), type, NFPROTO_INET, flags, b.seq());
}

// Reads every answer already queued on the socket without waiting. Returns the first
// error the kernel reported (empty if none), or an error when answers were lost.
absl::StatusOr<std::string> drainAnswers(mnl_socket* nl, const Batch* b) {
  const int fd = mnl_socket_get_fd(nl);
  const uint32_t portid = mnl_socket_get_portid(nl);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  std::string first_error;
  bool lost = false;
  for (;;) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // the socket dropped answers; keep draining the rest
        lost = true;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return absl::UnavailableError(
          fmt::format("netfilter netlink receive: {}", std::strerror(errno)));
    }
    if (b == nullptr) continue;  // stale answers from an earlier batch
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0 && first_error.empty()) {
        first_error =
            fmt::format("{}: {}", b->describe(nlh->nlmsg_seq), std::strerror(-err->error));
      }
    }
  }
  if (lost && b != nullptr && first_error.empty()) {
    return absl::UnavailableError(
        "netfilter netlink receive: answers lost (No buffer space available); the batch's "
        "outcome is unknown");
  }
  return first_error;
}

void addChainMessage(Batch& b, uint16_t type, const std::string& name, std::string what) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kTable);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nlmsghdr* nlh = header(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, 512);
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  b.commit(nlh, std::move(what));
}

// Deletes every rule of a chain (nft's `flush chain`).
void flushChainMessage(Batch& b, const std::string& name) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, name.c_str());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nlmsghdr* nlh = header(b, NFT_MSG_DELRULE, 0, 512);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  b.commit(nlh, "flush chain " + name);
}

// Expression builders, mirroring what nft 1.0 emits for the same rule text.
void expr(nftnl_rule* r, nftnl_expr* e) { nftnl_rule_add_expr(r, e); }

void metaLoad(nftnl_rule* r, uint32_t key) {
  nftnl_expr* m = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
  expr(r, m);
}

// reg1 = reg1 & mask (mark values are host order, as nft writes them).
void andMask(nftnl_rule* r, uint32_t mask) {
  nftnl_expr* bw = nftnl_expr_alloc("bitwise");
  const uint32_t zero = 0;
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, 4);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
  expr(r, bw);
}

void cmp(nftnl_rule* r, uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* c = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, data, len);
  expr(r, c);
}

// reg1 & mask != 0
void maskedNonZero(nftnl_rule* r, uint32_t mask) {
  andMask(r, mask);
  const uint32_t zero = 0;
  cmp(r, NFT_CMP_NEQ, &zero, 4);
}

// ct state & mask != 0
void ctState(nftnl_rule* r, uint32_t mask) {
  nftnl_expr* ct = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  expr(r, ct);
  maskedNonZero(r, mask);
}

void counter(nftnl_rule* r) { expr(r, nftnl_expr_alloc("counter")); }

void verdict(nftnl_rule* r, int code, const std::string& chain = {}) {
  nftnl_expr* imm = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(code));
  if (!chain.empty()) nftnl_expr_set_str(imm, NFTNL_EXPR_IMM_CHAIN, chain.c_str());
  expr(r, imm);
}

// ip saddr @set / ip6 saddr @set
void saddrIn(nftnl_rule* r, bool v4, const char* set) {
  metaLoad(r, NFT_META_NFPROTO);
  const uint8_t proto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
  cmp(r, NFT_CMP_EQ, &proto, 1);
  nftnl_expr* p = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, v4 ? 12 : 8);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, v4 ? 4 : 16);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  expr(r, p);
  nftnl_expr* l = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str(l, NFTNL_EXPR_LOOKUP_SET, set);
  expr(r, l);
}

void addRuleMessage(Batch& b, const std::string& chain, const EndpointRule& rule) {
  using K = EndpointRule::Kind;
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  switch (rule.kind) {
    case K::kAcceptEstablished:
      ctState(r.get(), NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
      counter(r.get());
      verdict(r.get(), NF_ACCEPT);
      break;
    case K::kDropInvalid:
      ctState(r.get(), NF_CT_STATE_INVALID_BIT);
      counter(r.get());
      verdict(r.get(), NF_DROP);
      break;
    case K::kAcceptNeighbourDiscovery: {
      // meta l4proto ipv6-icmp icmpv6 type 133-136: l4proto == 58, then the first byte of
      // the transport header in a range.
      metaLoad(r.get(), NFT_META_L4PROTO);
      const uint8_t icmpv6 = IPPROTO_ICMPV6;
      cmp(r.get(), NFT_CMP_EQ, &icmpv6, 1);
      nftnl_expr* p = nftnl_expr_alloc("payload");
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, 0);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 1);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
      expr(r.get(), p);
      nftnl_expr* range = nftnl_expr_alloc("range");
      const uint8_t first = policy::kNeighbourDiscoveryFirst;
      const uint8_t last = policy::kNeighbourDiscoveryLast;
      nftnl_expr_set_u32(range, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
      nftnl_expr_set_u32(range, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
      nftnl_expr_set(range, NFTNL_EXPR_RANGE_FROM_DATA, &first, 1);
      nftnl_expr_set(range, NFTNL_EXPR_RANGE_TO_DATA, &last, 1);
      expr(r.get(), range);
      counter(r.get());
      verdict(r.get(), NF_ACCEPT);
      break;
    }
    case K::kClearMarks: {
      counter(r.get());
      metaLoad(r.get(), NFT_META_MARK);
      andMask(r.get(), ~kMarkBits);
      nftnl_expr* set = nftnl_expr_alloc("meta");
      nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_MARK);
      nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
      expr(r.get(), set);
      break;
    }
    case K::kReturnFromNode4:
    case K::kReturnFromNode6: {
      const bool v4 = rule.kind == K::kReturnFromNode4;
      saddrIn(r.get(), v4, v4 ? policy::kNodeSetV4 : policy::kNodeSetV6);
      counter(r.get());
      verdict(r.get(), NFT_RETURN);
      break;
    }
    case K::kReturn:
      counter(r.get());
      verdict(r.get(), NFT_RETURN);
      break;
    case K::kJump:
      counter(r.get());
      verdict(r.get(), NFT_JUMP, rule.chain);
      break;
    case K::kReturnIfMarked: {
      metaLoad(r.get(), NFT_META_MARK);
      maskedNonZero(r.get(), kMarkBits);
      counter(r.get());
      verdict(r.get(), NFT_RETURN);
      break;
    }
    case K::kDrop:
      counter(r.get());
      verdict(r.get(), NF_DROP);
      break;
  }
  nftnl_udata_buf* ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, rule.comment.c_str());
  nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                      nftnl_udata_buf_len(ud));
  nftnl_udata_buf_free(ud);
  nlmsghdr* nlh = header(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 1024);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  b.commit(nlh, fmt::format("add rule {}: {}", chain, policy::renderEndpointRule(rule)));
}

// Set element keys as nft lays them out: concatenated fields each padded to 4 bytes.
std::vector<uint8_t> addressKey(const common::IpAddress& a) {
  auto bytes = a.bytes();
  return {bytes.begin(), bytes.end()};
}
std::vector<uint8_t> namedKey(const policy::NamedPortMember& n) {
  std::vector<uint8_t> key = addressKey(n.address);
  key.insert(key.end(), {n.protocol, 0, 0, 0});
  key.insert(key.end(), {static_cast<uint8_t>(n.port >> 8), static_cast<uint8_t>(n.port), 0, 0});
  return key;
}

void elementsMessage(Batch& b, uint16_t type, const std::string& set,
                     const std::vector<std::vector<uint8_t>>& keys) {
  if (keys.empty()) return;
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, kTable);
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.c_str());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  for (const auto& k : keys) {
    nftnl_set_elem* e = nftnl_set_elem_alloc();
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, k.data(), static_cast<uint32_t>(k.size()));
    nftnl_set_elem_add(s.get(), e);
  }
  nlmsghdr* nlh = header(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, keys.size() * 64);
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  b.commit(nlh, fmt::format("{} {} element(s) of set {}",
                            type == NFT_MSG_NEWSETELEM ? "add" : "delete", keys.size(), set));
}

void mapMessage(Batch& b, uint16_t type, const char* map, const std::string& iface,
                const std::string& chain) {
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, kTable);
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, map);
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  char key[IFNAMSIZ] = {};
  std::memcpy(key, iface.data(), std::min(iface.size(), sizeof(key) - 1));
  nftnl_set_elem* e = nftnl_set_elem_alloc();
  nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
  if (type == NFT_MSG_NEWSETELEM) {
    nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<uint32_t>(NFT_JUMP));
    nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain.c_str());
  }
  nftnl_set_elem_add(s.get(), e);
  nlmsghdr* nlh = header(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, 512);
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  b.commit(nlh, type == NFT_MSG_NEWSETELEM
                    ? fmt::format("add element {} {{ \"{}\" : jump {} }}", map, iface, chain)
                    : fmt::format("delete element {} {{ \"{}\" }}", map, iface));
}

// Interface names of ifname sets (staging), keys as nft lays them out: IFNAMSIZ bytes,
// zero-padded.
void interfaceElements(Batch& b, uint16_t type,
                       const std::map<std::string, std::vector<std::string>>& sets) {
  for (const auto& [set, names] : sets) {
    std::vector<std::vector<uint8_t>> keys;
    for (const auto& n : names) {
      std::vector<uint8_t> key(IFNAMSIZ, 0);
      std::memcpy(key.data(), n.data(), std::min(n.size(), key.size() - 1));
      keys.push_back(std::move(key));
    }
    elementsMessage(b, type, set, keys);
  }
}

void elementChanges(Batch& b, const policy::Program& after, const policy::MemberMap& members,
                    uint16_t type) {
  for (const auto& [name, m] : members) {
    if (!after.sets.count(name)) continue;
    std::vector<std::vector<uint8_t>> keys;
    for (const auto& a : m.addresses) keys.push_back(addressKey(a));
    for (const auto& n : m.named) keys.push_back(namedKey(n));
    elementsMessage(b, type, name, keys);
  }
}

}  // namespace

struct NftnlWriter::Socket {
  mnl_socket* nl = nullptr;
  ~Socket() {
    if (nl != nullptr) mnl_socket_close(nl);
  }
};

NftnlWriter::NftnlWriter(std::unique_ptr<Socket> socket) : socket_(std::move(socket)) {}
NftnlWriter::~NftnlWriter() = default;

absl::StatusOr<std::unique_ptr<NftnlWriter>> NftnlWriter::open(const std::string& netns_path) {
  auto socket = std::make_unique<Socket>();
  auto make = [&]() -> absl::Status {
    socket->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (socket->nl == nullptr) {
      return absl::InternalError(fmt::format("netfilter netlink socket: {}", std::strerror(errno)));
    }
    if (mnl_socket_bind(socket->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
      return absl::InternalError(fmt::format("netfilter netlink bind: {}", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  absl::Status status;
  if (netns_path.empty()) {
    status = make();
  } else {
    auto ns = NetnsFd::open(netns_path);
    if (!ns.ok()) return ns.status();
    status = runInNetns(*ns, make);
  }
  if (!status.ok()) return status;
  return std::unique_ptr<NftnlWriter>(new NftnlWriter(std::move(socket)));
}

bool NftnlWriter::handles(const policy::Program& after, const policy::ProgramChange& change) {
  if (!change.sets_added.empty() || !change.sets_removed.empty() ||
      !change.policy_chains_added.empty() || !change.policy_chains_changed.empty() ||
      !change.policy_chains_removed.empty()) {
    return false;
  }
  for (const auto* members : {&change.elements_added, &change.elements_removed}) {
    for (const auto& [name, m] : *members) {
      auto def = after.sets.find(name);
      if (def == after.sets.end()) return false;
      if (def->second.kind != policy::SetKind::kEndpoints &&
          def->second.kind != policy::SetKind::kNamedPorts) {
        return false;
      }
      if (!m.nets.empty()) return false;
    }
  }
  for (const auto& id : change.endpoints_added) {
    const auto* ep = after.findEndpoint(id);
    if (ep == nullptr || ep->interface_name.size() >= IFNAMSIZ) return false;
  }
  // Bounds one batch (built in memory, sent as one message). Big changes are rare (a
  // relabel of many pods) and go as nft text.
  const size_t endpoints = change.endpoints_added.size() + change.endpoints_changed.size() +
                           change.endpoints_removed.size();
  const size_t element_sets = change.elements_added.size() + change.elements_removed.size();
  return endpoints <= kMaxEndpoints && element_sets <= kMaxElementMessages;
}

absl::Status NftnlWriter::write(const policy::Program& after, const policy::ProgramChange& change,
                                const policy::StagingChange& staging) {
  Batch b;
  {
    nlmsghdr* nlh = nftnl_batch_begin(b.next(64), b.seq());
    b.commit(nlh, "");
  }
  std::vector<const policy::EndpointProgram*> added;
  for (const auto& id : change.endpoints_added) {
    const auto* ep = after.findEndpoint(id);
    if (ep == nullptr) continue;
    added.push_back(ep);
    addChainMessage(b, NFT_MSG_NEWCHAIN, ep->egress.name, "add chain " + ep->egress.name);
    addChainMessage(b, NFT_MSG_NEWCHAIN, ep->ingress.name, "add chain " + ep->ingress.name);
  }
  elementChanges(b, after, change.elements_removed, NFT_MSG_DELSETELEM);
  elementChanges(b, after, change.elements_added, NFT_MSG_NEWSETELEM);
  interfaceElements(b, NFT_MSG_DELSETELEM, staging.remove);
  interfaceElements(b, NFT_MSG_NEWSETELEM, staging.add);
  for (const auto* ep : added) {
    for (const auto* chain : {&ep->egress, &ep->ingress}) {
      for (const auto& rule : policy::endpointRules(*ep, *chain)) {
        addRuleMessage(b, chain->name, rule);
      }
    }
  }
  for (const auto& old : change.endpoints_changed) {
    const auto* ep = after.findEndpoint(old.endpoint_id);
    if (ep == nullptr) continue;
    for (policy::Direction d : {policy::Direction::kEgress, policy::Direction::kIngress}) {
      const auto rules = policy::endpointRules(*ep, ep->chain(d));
      if (rules == policy::endpointRules(old, old.chain(d))) continue;
      flushChainMessage(b, ep->chain(d).name);
      for (const auto& rule : rules) addRuleMessage(b, ep->chain(d).name, rule);
    }
  }
  for (policy::Direction d : {policy::Direction::kEgress, policy::Direction::kIngress}) {
    const char* map = d == policy::Direction::kEgress ? "from-wl" : "to-wl";
    for (const auto& old : change.endpoints_removed) {
      if (!old.interface_name.empty())
        mapMessage(b, NFT_MSG_DELSETELEM, map, old.interface_name, "");
    }
    for (const auto& old : change.endpoints_changed) {
      const auto* ep = after.findEndpoint(old.endpoint_id);
      if (ep == nullptr || ep->interface_name == old.interface_name) continue;
      if (!old.interface_name.empty())
        mapMessage(b, NFT_MSG_DELSETELEM, map, old.interface_name, "");
      if (!ep->interface_name.empty()) {
        mapMessage(b, NFT_MSG_NEWSETELEM, map, ep->interface_name, ep->chain(d).name);
      }
    }
    for (const auto* ep : added) {
      if (!ep->interface_name.empty()) {
        mapMessage(b, NFT_MSG_NEWSETELEM, map, ep->interface_name, ep->chain(d).name);
      }
    }
  }
  std::vector<std::string> gone;
  for (const auto& old : change.endpoints_removed) {
    gone.push_back(old.egress.name);
    gone.push_back(old.ingress.name);
  }
  for (const auto& name : gone) flushChainMessage(b, name);
  for (const auto& name : gone) addChainMessage(b, NFT_MSG_DELCHAIN, name, "delete chain " + name);
  {
    nlmsghdr* nlh = nftnl_batch_end(b.next(64), b.seq());
    b.commit(nlh, "");
  }
  if (b.messages() == 0) return absl::OkStatus();

  mnl_socket* nl = socket_->nl;
  // Whatever an earlier, failed write left queued must not be read as this batch's answer.
  if (auto stale = drainAnswers(nl, nullptr); !stale.ok()) return stale.status();
  // A batch is one netlink message to the kernel, refused with EMSGSIZE beyond the socket's
  // send buffer (~208 KiB by default): grow the buffer to fit, as nft does.
  const int fd = mnl_socket_get_fd(nl);
  int sndbuf = 0;
  socklen_t optlen = sizeof(sndbuf);
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &optlen) == 0 &&
      static_cast<size_t>(sndbuf) < 2 * b.size() + 4096) {
    const int want = static_cast<int>(2 * b.size() + 4096);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
    }
  }
  if (mnl_socket_sendto(nl, b.data(), b.size()) < 0) {
    return absl::UnavailableError(fmt::format("netfilter netlink send: {}", std::strerror(errno)));
  }
  // The kernel processes a batch inside sendto(): its answers are all queued by now.
  auto first_error = drainAnswers(nl, &b);
  if (!first_error.ok()) return first_error.status();
  if (!first_error->empty()) {
    return absl::FailedPreconditionError("nf_tables batch refused, nothing applied: " +
                                         *first_error);
  }
  return absl::OkStatus();
}

}  // namespace coral::agent
