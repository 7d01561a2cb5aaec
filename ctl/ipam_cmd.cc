// coralctl ipam: show (usage per pool and block), check (the consistency report, as text or
// JSON), release (addresses by IP or every leak of a saved report, each re-checked right
// before release) and gc (scan, wait the grace period, release what is still garbage).
#include "ctl/ipam_cmd.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "ctl/table.h"
#include "ipam/check.h"
#include "ipam/gc.h"
#include "ipam/ipam.h"

namespace coral::ctl {
namespace {

// Address counts of IPv6 pools do not fit 64 bits: 2^N addresses, with N host bits.
bool huge(int host_bits) { return host_bits >= 64; }

std::string totalText(int host_bits, uint64_t total) {
  return huge(host_bits) ? fmt::format("2^{}", host_bits) : std::to_string(total);
}

std::string freeText(int host_bits, uint64_t total, uint64_t in_use) {
  if (!huge(host_bits)) return std::to_string(total - in_use);
  return in_use == 0 ? fmt::format("2^{}", host_bits) : fmt::format("2^{} - {}", host_bits, in_use);
}

std::string percent(uint64_t part, int host_bits, uint64_t whole) {
  const double size = huge(host_bits) ? std::ldexp(1.0, host_bits) : static_cast<double>(whole);
  if (size == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / size);
}

int fail(std::ostream& err, const absl::Status& s) {
  err << "error: " << errorMessage(s) << '\n';
  return 1;
}

}  // namespace

IpamCommands::IpamCommands(CLI::App& app) {
  ipam_ = app.add_subcommand("ipam", "IP address management: show, check, release, gc");
  ipam_->require_subcommand(1);
  ipam_->add_flag("-v,--verbose", verbose_, "Also print the allocator's log lines (stderr)");
  show_ = ipam_->add_subcommand("show", "Addresses per pool: total, in use, free");
  show_->add_flag("--show-blocks", show_blocks_, "Also list every block, its owner and usage");
  check_ = ipam_->add_subcommand(
      "check",
      "Report leaks, orphaned blocks, duplicates, ...; exit 0 when consistent, 1 with "
      "findings, 2 when the check could not run");
  check_->add_option("-o,--output", output_, "json: a report `ipam release` can read");
  release_ = ipam_->add_subcommand("release", "Release addresses");
  release_->add_option("--ip", release_ips_, "An address to release (repeatable)");
  release_->add_option("--from-report", from_report_,
                       "Release every leak of a `coralctl ipam check -o json` report");
  release_->add_flag("--force", force_, "--ip: release even if a live workload holds it");
  gc_ = ipam_->add_subcommand("gc", "Collect leaks and empty blocks (waits the grace period)");
  gc_->add_option("--grace-period", grace_s_, "Seconds a finding must persist (default 60)");
  // `coralctl ipam gc --verbose` as well as `coralctl ipam --verbose gc`.
  for (CLI::App* sub : {show_, check_, release_, gc_}) sub->fallthrough();
}

int IpamCommands::run(datastore::ResourceStore& store, std::ostream& out, std::ostream& err) {
  // What the command prints is its output; the allocator's info lines are for daemons.
  if (!verbose_) log::setLevel(log::Level::kWarn);
  if (show_->parsed()) return runIpamShow(store, show_blocks_, out, err);
  if (check_->parsed()) return runIpamCheck(store, output_, out, err);
  if (release_->parsed())
    return runIpamRelease(store, release_ips_, from_report_, force_, out, err);
  if (gc_->parsed()) return runIpamGc(store, grace_s_, out, err);
  return 1;
}

int runIpamShow(datastore::ResourceStore& store, bool show_blocks, std::ostream& out,
                std::ostream& err) {
  auto snap = ipam::readSnapshot(store);
  if (!snap.ok()) return fail(err, snap.status());
  const ipam::Usage u = ipam::usage(*snap);
  Table pools({"POOL", "CIDR", "TOTAL", "IN USE", "FREE", "BLOCKS", "STATE"});
  for (const auto& p : u.pools) {
    pools.addRow({p.name, p.cidr, totalText(p.host_bits, p.total),
                  fmt::format("{} ({})", p.in_use, percent(p.in_use, p.host_bits, p.total)),
                  freeText(p.host_bits, p.total, p.in_use), std::to_string(p.blocks),
                  p.disabled ? "disabled" : "enabled"});
  }
  if (pools.empty()) {
    err << "No IP pools found.\n";
  } else {
    pools.print(out);
  }
  if (show_blocks) {
    Table blocks({"BLOCK", "POOL", "OWNER", "SIZE", "IN USE", "FREE"});
    for (const auto& b : u.blocks) {
      blocks.addRow({b.cidr, b.pool.empty() ? "(none)" : b.pool, b.owner.empty() ? "-" : b.owner,
                     totalText(b.host_bits, b.size),
                     fmt::format("{} ({})", b.in_use, percent(b.in_use, b.host_bits, b.size)),
                     freeText(b.host_bits, b.size, b.in_use)});
    }
    out << '\n';
    if (blocks.empty()) {
      out << "No blocks claimed.\n";
    } else {
      blocks.print(out);
    }
  }
  return 0;
}

int runIpamCheck(datastore::ResourceStore& store, const std::string& output, std::ostream& out,
                 std::ostream& err) {
  if (!output.empty() && output != "json") {
    err << fmt::format("error: --output \"{}\": only json is supported\n", output);
    return kCheckError;
  }
  auto snap = ipam::readSnapshot(store);
  if (!snap.ok()) {
    fail(err, snap.status());
    return kCheckError;
  }
  const ipam::CheckReport report = ipam::analyze(*snap);
  if (output == "json") {
    out << ipam::reportToJson(report).dump(2) << '\n';
  } else {
    out << ipam::formatReport(report);
  }
  return report.clean() ? kCheckConsistent : kCheckFindings;
}

int runIpamRelease(datastore::ResourceStore& store, const std::vector<std::string>& ips,
                   const std::string& from_report, bool force, std::ostream& out,
                   std::ostream& err) {
  if (ips.empty() == from_report.empty()) {
    err << "error: give either --ip ADDRESS or --from-report FILE\n";
    return 1;
  }
  ipam::Ipam ipam(store);
  int failures = 0;
  if (!from_report.empty()) {
    std::ifstream in(from_report);
    if (!in) {
      err << fmt::format("error: {}: cannot read\n", from_report);
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto json = model::Json::parse(text.str(), nullptr, false);
    if (json.is_discarded()) {
      err << fmt::format("error: {}: not JSON\n", from_report);
      return 1;
    }
    auto report = ipam::reportFromJson(json);
    if (!report.ok()) return fail(err, annotate(report.status(), from_report));
    for (const auto& leak : report->leaks) {
      // The report may be old: release only what is still held by that handle and still
      // has no workload.
      auto leaked = ipam::stillLeaked(store, leak);
      if (!leaked.ok()) {
        err << fmt::format("error: {}: {}\n", leak.ip, errorMessage(leaked.status()));
        ++failures;
        continue;
      }
      if (!*leaked) {
        out << fmt::format("{} skipped: no longer leaked (released, re-used or alive)\n", leak.ip);
        continue;
      }
      auto ip = common::IpAddress::parse(leak.ip);
      auto done =
          ip.ok() ? ipam.releaseAddress(*ip, leak.handle) : absl::StatusOr<bool>(ip.status());
      if (!done.ok()) {
        err << fmt::format("error: {}: {}\n", leak.ip, errorMessage(done.status()));
        ++failures;
      } else {
        out << fmt::format("{} {}\n", leak.ip, *done ? "released" : "skipped: not allocated");
      }
    }
    return failures ? 1 : 0;
  }
  for (const auto& text : ips) {
    auto ip = common::IpAddress::parse(text);
    if (!ip.ok()) {
      err << fmt::format("error: --ip \"{}\": {}\n", text, errorMessage(ip.status()));
      ++failures;
      continue;
    }
    if (!force) {
      // Refuse to take an address from a live workload.
      auto snap = ipam::readSnapshot(store);
      if (!snap.ok()) return fail(err, snap.status());
      bool live = false;
      for (const auto& b : snap->blocks) {
        auto cidr = common::Prefix::parse(b.spec.cidr);
        if (!cidr.ok() || !cidr->contains(*ip)) continue;
        for (const auto& a : b.spec.allocations) {
          if (static_cast<uint64_t>(a.ordinal) == *cidr->indexOf(*ip) &&
              ipam::workloadExists(*snap, a.attributes, ip->toString())) {
            live = true;
          }
        }
      }
      if (live) {
        err << fmt::format("error: {} belongs to a live workload; use --force to release it\n",
                           text);
        ++failures;
        continue;
      }
    }
    auto done = ipam.releaseAddress(*ip);
    if (!done.ok()) {
      err << fmt::format("error: {}: {}\n", text, errorMessage(done.status()));
      ++failures;
    } else if (!*done) {
      err << fmt::format("error: {} is not allocated\n", text);
      ++failures;
    } else {
      out << fmt::format("{} released\n", text);
    }
  }
  return failures ? 1 : 0;
}

int runIpamGc(datastore::ResourceStore& store, int grace_s, std::ostream& out, std::ostream& err) {
  ipam::Ipam ipam(store);
  const auto grace = std::chrono::seconds(std::max(grace_s, 0));
  ipam::GarbageCollector gc(ipam, common::SystemClock::instance(),
                            {.leak_grace = grace, .block_grace = grace});
  // First pass records candidates; the second, a grace period later, releases what is
  // still garbage after a re-check.
  auto first = gc.runOnce();
  if (!first.ok()) return fail(err, first.status());
  if (first->waiting == 0) {
    out << "Nothing to collect.\n";
    return 0;
  }
  out << fmt::format("{} candidates; waiting {} s before releasing them.\n", first->waiting,
                     grace.count());
  out.flush();
  std::this_thread::sleep_for(grace);
  auto second = gc.runOnce();
  if (!second.ok()) return fail(err, second.status());
  for (const auto& a : second->released) {
    out << fmt::format("released {} (handle {}, pod {}/{})\n", a.ip, a.handle, a.ns, a.pod);
  }
  for (const auto& a : second->spared) out << fmt::format("spared {}: alive again\n", a.ip);
  for (const auto& b : second->released_blocks) out << fmt::format("released empty block {}\n", b);
  for (const auto& n : second->released_nodes)
    out << fmt::format("released blocks of node {}\n", n);
  for (const auto& a : second->removed_affinities) out << fmt::format("removed affinity {}\n", a);
  for (const auto& h : second->repaired_handles) out << fmt::format("repaired handle {}\n", h);
  return 0;
}

}  // namespace coral::ctl
