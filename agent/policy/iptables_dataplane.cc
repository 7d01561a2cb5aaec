// iptables backend of PolicyDataplane (see iptables_dataplane.h).
#include "agent/policy/iptables_dataplane.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

#include "agent/dataplane/netns.h"
#include "agent/policy/command.h"
#include "common/strings.h"
#include "policy/iptables.h"

namespace coral::agent {
namespace {

using common::Family;

// The base chains we hook and the CORAL chain each jumps to.
constexpr const char* kHooks[][2] = {
    {"FORWARD", "CORAL-FORWARD"}, {"INPUT", "CORAL-INPUT"}, {"OUTPUT", "CORAL-OUTPUT"}};

struct SavedTable {
  std::set<std::string> coral_chains;
  std::map<std::string, size_t> rule_counts;  // CORAL chain → rules
  std::set<std::string> hooks;                // base chains that jump to their CORAL chain
  std::vector<std::string> rules;             // "-A ..." lines of CORAL chains, as saved
};

SavedTable parseSave(std::string_view text) {
  SavedTable t;
  for (std::string_view raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.starts_with("[")) {  // "[packets:bytes] -A ..." with -c
      const size_t close = line.find("] ");
      if (close != std::string_view::npos) line = line.substr(close + 2);
    }
    if (line.starts_with(":CORAL-")) {
      t.coral_chains.insert(std::string(line.substr(1, line.find(' ') - 1)));
    } else if (line.starts_with("-A ")) {
      const auto parts = split(line, ' ', true);
      if (parts.size() < 2) continue;
      const std::string chain(parts[1]);
      for (const auto& hook : kHooks) {
        if (line == fmt::format("-A {} -j {}", hook[0], hook[1])) t.hooks.insert(hook[0]);
      }
      if (chain.starts_with("CORAL-")) {
        ++t.rule_counts[chain];
        t.rules.emplace_back(line);
      }
    }
  }
  return t;
}

class IptablesPolicyDataplane : public PolicyDataplane {
 public:
  IptablesPolicyDataplane(std::string node, std::optional<NetnsFd> netns)
      : PolicyDataplane(std::move(node)), netns_(std::move(netns)) {}

 protected:
  absl::Status writeFull(const policy::Program& program, const policy::MemberMap& members,
                         PolicyApplyStats& stats) override {
    stats.full = true;
    stats.commands_bytes = 0;
    for (Family f : {Family::kV4, Family::kV6}) {
      auto saved = save(f, false);
      if (!saved.ok()) return saved.status();
      const std::string text =
          restoreText(policy::renderIptablesRestore(program, members, f), parseSave(*saved));
      stats.commands_bytes += text.size();
      auto out = run({tool(f, "restore"), "--noflush"}, text);
      if (!out.ok()) return out.status();
      if (out->exit_code != 0) {
        return absl::FailedPreconditionError(fmt::format("{} --noflush failed (exit {}): {}",
                                                         tool(f, "restore"), out->exit_code,
                                                         trim(out->err)));
      }
    }
    return absl::OkStatus();
  }

  absl::Status writeDelta(const policy::Program& after, const policy::MemberMap& after_members,
                          const policy::ProgramChange&, PolicyApplyStats& stats) override {
    return writeFull(after, after_members, stats);
  }

  absl::StatusOr<std::string> kernelDifference(const policy::Program& program,
                                               const policy::MemberMap& members) override {
    for (Family f : {Family::kV4, Family::kV6}) {
      auto saved = save(f, false);
      if (!saved.ok()) return saved.status();
      const SavedTable got = parseSave(*saved);
      const SavedTable want = parseSave(policy::renderIptablesRestore(program, members, f));
      const char* name = f == Family::kV4 ? "iptables" : "ip6tables";
      for (const auto& hook : kHooks) {
        if (!got.hooks.count(hook[0])) {
          return fmt::format("{}: the jump from {} to {} is missing", name, hook[0], hook[1]);
        }
      }
      for (const auto& chain : want.coral_chains) {
        if (!got.coral_chains.count(chain)) return fmt::format("{}: {} is missing", name, chain);
        const size_t want_rules = want.rule_counts.count(chain) ? want.rule_counts.at(chain) : 0;
        const size_t got_rules = got.rule_counts.count(chain) ? got.rule_counts.at(chain) : 0;
        if (want_rules != got_rules) {
          return fmt::format("{}: {} has {} rules, expected {}", name, chain, got_rules,
                             want_rules);
        }
      }
      for (const auto& chain : got.coral_chains) {
        if (!want.coral_chains.count(chain)) return fmt::format("{}: {} is stale", name, chain);
      }
    }
    return std::string();
  }

  absl::StatusOr<std::vector<RuleCounter>> readCounters() override {
    const policy::Program& program = programLocked();
    std::map<std::string, std::string> names;  // iptables chain → program chain
    for (const auto& [name, chain] : program.policy_chains) {
      names[policy::iptablesChainName(chain.direction == policy::Direction::kIngress ? "PI" : "PE",
                                      name)] = name;
    }
    for (const auto& ep : program.endpoints) {
      names[policy::iptablesChainName("WI", ep.ingress.name)] = ep.ingress.name;
      names[policy::iptablesChainName("WE", ep.egress.name)] = ep.egress.name;
    }
    std::vector<RuleCounter> out;
    for (Family f : {Family::kV4, Family::kV6}) {
      auto saved = save(f, true);
      if (!saved.ok()) return saved.status();
      for (std::string_view raw : split(*saved, '\n')) {
        std::string_view line = trim(raw);
        if (!line.starts_with("[")) continue;
        const size_t colon = line.find(':'), close = line.find("] ");
        if (colon == std::string_view::npos || close == std::string_view::npos) continue;
        const std::string_view rule = line.substr(close + 2);
        const auto parts = split(rule, ' ', true);
        if (parts.size() < 2 || !parts[1].starts_with("CORAL-")) continue;
        RuleCounter c;
        const std::string chain(parts[1]);
        c.chain = names.count(chain) ? names.at(chain) : chain;
        c.packets = parseInt<uint64_t>(line.substr(1, colon - 1)).value_or(0);
        c.bytes = parseInt<uint64_t>(line.substr(colon + 1, close - colon - 1)).value_or(0);
        c.comment = commentOf(rule);
        c.verdict = verdictOf(rule);
        out.push_back(std::move(c));
      }
    }
    return out;
  }

 private:
  static std::string tool(Family f, const char* what) {
    return fmt::format("{}-{}", f == Family::kV4 ? "iptables" : "ip6tables", what);
  }

  static std::string commentOf(std::string_view rule) {
    const size_t at = rule.find("--comment ");
    if (at == std::string_view::npos) return "";
    std::string_view rest = rule.substr(at + 10);
    if (rest.starts_with("\"")) {
      rest.remove_prefix(1);
      return std::string(rest.substr(0, rest.find('"')));
    }
    return std::string(rest.substr(0, rest.find(' ')));
  }

  static std::string verdictOf(std::string_view rule) {
    const size_t at = rule.rfind(" -j ");
    if (at == std::string_view::npos) return "";
    const std::string_view target = split(rule.substr(at + 4), ' ', true).front();
    if (target == "DROP") return "drop";
    if (target == "ACCEPT") return "accept";
    if (target == "RETURN") return "return";
    if (target == "LOG") return "log";
    if (target == "MARK") return "mark";
    return "jump";
  }

  // The rendered text plus: stale CORAL-* chains flushed and deleted, missing hooks added.
  static std::string restoreText(const std::string& rendered, const SavedTable& saved) {
    const SavedTable want = parseSave(rendered);
    std::string declare, tail;
    for (const auto& chain : saved.coral_chains) {
      if (want.coral_chains.count(chain)) continue;
      declare += fmt::format(":{} - [0:0]\n", chain);  // flushes it: nothing jumps to it after
      tail += fmt::format("-X {}\n", chain);
    }
    for (const auto& hook : kHooks) {
      if (!saved.hooks.count(hook[0])) tail += fmt::format("-I {} 1 -j {}\n", hook[0], hook[1]);
    }
    std::string text = rendered;
    const size_t table = text.find("*filter\n");
    if (table != std::string::npos) text.insert(table + 8, declare);
    const size_t commit = text.rfind("COMMIT\n");
    if (commit != std::string::npos) text.insert(commit, tail);
    return text;
  }

  absl::StatusOr<std::string> save(Family f, bool counters) {
    std::vector<std::string> argv = {tool(f, "save"), "-t", "filter"};
    if (counters) argv.push_back("-c");
    auto out = run(argv, "");
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) {
      return absl::FailedPreconditionError(
          fmt::format("{} failed (exit {}): {}", argv[0], out->exit_code, trim(out->err)));
    }
    return out->out;
  }

  absl::StatusOr<CommandOutput> run(const std::vector<std::string>& argv,
                                    const std::string& input) {
    if (!netns_) return runCommand(argv, input);
    absl::StatusOr<CommandOutput> result;
    absl::Status status = runInNetns(*netns_, [&] {
      result = runCommand(argv, input);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return result;
  }

  std::optional<NetnsFd> netns_;
};

}  // namespace

absl::StatusOr<PolicyDataplanePtr> makeIptablesPolicyDataplane(std::string node,
                                                               const std::string& netns_path) {
  std::optional<NetnsFd> netns;
  if (!netns_path.empty()) {
    auto fd = NetnsFd::open(netns_path);
    if (!fd.ok()) return fd.status();
    netns.emplace(std::move(*fd));
  }
  return PolicyDataplanePtr(new IptablesPolicyDataplane(std::move(node), std::move(netns)));
}

absl::StatusOr<PolicyDataplanePtr> makePolicyDataplane(const std::string& backend, std::string node,
                                                       const std::string& netns_path) {
  if (backend == "iptables") return makeIptablesPolicyDataplane(std::move(node), netns_path);
  if (backend == "nftables" || backend.empty()) {
    auto nft = makeLibNftApplier(netns_path);
    if (!nft.ok()) return nft.status();
    auto netlink = NftnlWriter::open(netns_path);
    if (!netlink.ok()) return netlink.status();
    return makeNftPolicyDataplane(std::move(node), std::move(*nft), std::move(*netlink));
  }
  return absl::InvalidArgumentError(
      fmt::format("policyBackend \"{}\": expected nftables or iptables", backend));
}

}  // namespace coral::agent
