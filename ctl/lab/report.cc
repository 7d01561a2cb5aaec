// lab status and lab graph: what the lab is made of and how its BGP sessions stand,
// read live from BIRD (birdc), coral-bgpd (its status socket, through `coralctl bgp peers`)
// and corald (/readyz, the status of its routes).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "common/strings.h"
#include "ctl/lab/datastore_control.h"
#include "ctl/lab/lab.h"
#include "ctl/lab/shell.h"
#include "ctl/table.h"

namespace coral::lab {
namespace {

struct BgpSession {
  std::string router;
  std::string name;
  std::string state;  // Established, Active, Connect, ...
  std::string since;
  std::string info;
};

// `birdc show protocols` lines of BGP protocols.
std::vector<BgpSession> birdSessions(const LabRouter& r) {
  std::vector<BgpSession> out;
  auto res = run(fmt::format("birdc -s {} show protocols", r.bird_socket));
  if (!res.ok()) return out;
  for (std::string_view line : split(res.output, '\n', true)) {
    auto words = split(trim(line), ' ', true);
    if (words.size() < 5 || words[1] != "BGP") continue;
    BgpSession s;
    s.router = r.name;
    s.name = std::string(words[0]);
    s.since = std::string(words[4]);
    s.state = words.size() > 5 ? std::string(words[5]) : std::string(words[3]);
    for (size_t i = 6; i < words.size(); ++i)
      s.info += (s.info.empty() ? "" : " ") + std::string(words[i]);
    out.push_back(s);
  }
  return out;
}

// `coralctl bgp --socket ... peers` of a route reflector (its sessions with the DC's nodes).
std::string reflectorPeers(const LabReflector& rr) {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  return run(fmt::format("{} bgp --socket {} peers", shellQuote(self), shellQuote(rr.socket)))
      .output;
}

// The state of the session with `address` in `coralctl bgp peers` output ("" if none).
std::string reflectorSessionState(const std::string& peers, const std::string& address) {
  for (std::string_view line : split(peers, '\n', true)) {
    const auto words = split(trim(line), ' ', true);
    if (std::find(words.begin(), words.end(), address) == words.end()) continue;
    for (const char* st : {"Established", "Idle", "Connect", "Active", "OpenSent", "OpenConfirm"}) {
      if (std::find(words.begin(), words.end(), st) != words.end()) return st;
    }
  }
  return "";
}

std::string peerLabel(std::string name) {
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return name;
}

}  // namespace

absl::Status printStatus(const std::string& lab, std::ostream& out) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) return absl::NotFoundError(fmt::format("lab {} is not up", lab));
  out << fmt::format("Lab {} ({}){}\n\n", lab, state->dir,
                     state->complete ? "" : " — INCOMPLETE: run `coralctl lab down`");
  if (state->config.datastore == "etcd") {
    out << fmt::format("Datastore: etcd ({}), {}: {}\n\n", state->datastore_url,
                       netnsName(lab, "etcd"), etcdProcessState(state->etcd_pid));
  } else {
    out << fmt::format("Datastore: file ({})\n\n", state->datastore_url);
  }
  ctl::Table routers({"ROUTER", "DC", "AS", "ADDRESS", "WAN", "BIRD"});
  for (const auto& r : state->routers) {
    routers.addRow({r.name, r.dc, std::to_string(r.as), r.address,
                    r.wan_address.empty() ? "-" : r.wan_address,
                    processMatches(r.pid, "bird") ? "running" : "DOWN"});
  }
  routers.print(out);
  out << '\n';
  ctl::Table sessions({"ROUTER", "PEER", "STATE", "SINCE", "INFO"});
  for (const auto& r : state->routers) {
    for (const auto& s : birdSessions(r)) {
      sessions.addRow(
          {s.router, peerLabel(s.name), s.state, s.since, s.info.empty() ? "-" : s.info});
    }
  }
  sessions.print(out);
  out << '\n';
  for (const auto& rr : state->reflectors) {
    out << fmt::format("Route reflector {} (coral-bgpd, AS {}, {}, {}; clients: the {} nodes):\n",
                       rr.name, rr.as, rr.address,
                       processMatches(rr.pid, "coral-bgpd") ? "running" : "DOWN", rr.dc);
    const std::string peers = reflectorPeers(rr);  // split() returns views into it
    for (std::string_view line : split(peers, '\n', true)) {
      out << "  " << line << '\n';
    }
    out << '\n';
  }
  ctl::Table nodes({"NODE", "DC", "ADDRESS", "CORALD", "CORAL ROUTES"});
  for (const auto& n : state->nodes) {
    const std::string routes =
        run("ip netns exec " + n.netns + " ip route show proto 77 | wc -l").output;
    nodes.addRow(
        {n.name, n.dc, n.address,
         !processMatches(n.pid, "corald") ? "DOWN" : (coraldReady(n) ? "ready" : "not ready"),
         std::string(trim(routes))});
  }
  nodes.print(out);
  out << '\n';
  if (state->pods.empty()) {
    out << "No pods yet: coralctl lab pod add NAME --node "
        << (state->nodes.empty() ? "N" : state->nodes[0].name) << '\n';
  } else {
    ctl::Table pods({"NAMESPACE", "POD", "NODE", "ADDRESSES", "LABELS"});
    for (const auto& p : state->pods) {
      std::vector<std::string> labels;
      for (const auto& [k, v] : p.labels) labels.push_back(k + "=" + v);
      pods.addRow({p.pod_namespace, p.name, p.node, join(p.addresses, ","),
                   labels.empty() ? "-" : join(labels, ",")});
    }
    pods.print(out);
  }
  for (const auto& r : state->routers) {
    out << fmt::format("\nRoutes on {} (BIRD):\n", r.name);
    auto routes = run(fmt::format("birdc -s {} show route", r.bird_socket));
    for (std::string_view line : split(routes.output, '\n', true)) {
      if (line.starts_with("BIRD ") || line.starts_with("Table ")) continue;
      out << "  " << line << '\n';
    }
  }
  return absl::OkStatus();
}

absl::Status writeGraph(const std::string& lab, const std::string& path) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) return absl::NotFoundError(fmt::format("lab {} is not up", lab));
  std::map<std::string, std::string> session_state;  // "<router>/<peer>" -> state
  for (const auto& r : state->routers) {
    for (const auto& s : birdSessions(r)) session_state[r.name + "/" + s.name] = s.state;
  }
  auto edgeStyle = [](const std::string& st) {
    return st == "Established" ? std::string("color=\"#2e7d32\", penwidth=2")
                               : std::string("color=\"#c62828\", style=dashed");
  };
  std::string dot =
      "graph lab {\n  rankdir=TB; fontname=\"Helvetica\"; newrank=true;\n"
      "  node [fontname=\"Helvetica\", fontsize=11]; edge [fontname=\"Helvetica\", fontsize=9];\n";
  auto id = [](std::string s) {
    for (char& c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
  };
  for (const auto& dc : state->config.dcs) {
    dot += fmt::format(
        "  subgraph cluster_{} {{\n    label=\"{} — nodes AS {}, pods {}\"; style=rounded; "
        "color=\"#90a4ae\";\n",
        id(dc.name), dc.name, dc.node_as, dc.pods);
    for (const auto& r : state->routers) {
      if (r.dc != dc.name) continue;
      dot += fmt::format(
          "    {} [shape=box, style=\"rounded,filled\", fillcolor=\"#e3f2fd\", label=\"{}\\nBIRD "
          "AS {}\\n{}\"];\n",
          id(r.name), r.name, r.as, r.address);
    }
    for (const auto& rr : state->reflectors) {
      if (rr.dc != dc.name) continue;
      dot += fmt::format(
          "    {} [shape=box, style=\"rounded,filled\", fillcolor=\"#ede7f6\", label=\"{}\\n"
          "coral-bgpd RR AS {}\\n{}\"];\n",
          id(rr.name), rr.name, rr.as, rr.address);
    }
    for (const auto& n : state->nodes) {
      if (n.dc != dc.name) continue;
      dot += fmt::format(
          "    {} [shape=box3d, style=filled, fillcolor=\"#fff3e0\", "
          "label=\"{}\\ncorald\\n{}\"];\n",
          id(n.name), n.name, n.address);
      for (const auto& p : state->pods) {
        if (p.node != n.name) continue;
        const std::string pid = id("pod_" + p.pod_namespace + "_" + p.name);
        dot += fmt::format(
            "    {} [shape=note, style=filled, fillcolor=\"#f1f8e9\", label=\"{}/{}\\n{}\"];\n",
            pid, p.pod_namespace, p.name, join(p.addresses, "\\n"));
        dot += fmt::format("    {} -- {} [color=\"#9e9e9e\"];\n", id(n.name), pid);
      }
    }
    dot += "  }\n";
  }
  for (const auto& r : state->routers) {
    for (const auto& n : state->nodes) {
      if (n.dc != r.dc) continue;
      const std::string st = session_state.count(r.name + "/" + id(n.name))
                                 ? session_state[r.name + "/" + id(n.name)]
                                 : "";
      dot += fmt::format("  {} -- {} [label=\"eBGP {}\", {}];\n", id(r.name), id(n.name),
                         st.empty() ? "(no session)" : st, edgeStyle(st));
    }
  }
  for (const auto& rr : state->reflectors) {
    const std::string peers = reflectorPeers(rr);
    for (const auto& n : state->nodes) {
      if (n.dc != rr.dc) continue;
      const std::string st = reflectorSessionState(peers, n.address);
      dot += fmt::format("  {} -- {} [label=\"iBGP RR client {}\", {}];\n", id(rr.name), id(n.name),
                         st.empty() ? "(no session)" : st, edgeStyle(st));
    }
  }
  if (state->routers.size() == 2) {
    const auto& a = state->routers[0];
    const auto& b = state->routers[1];
    const std::string st = session_state[a.name + "/wan"];
    dot += fmt::format("  {} -- {} [label=\"WAN eBGP {}\\n{} — {}\", {}];\n", id(a.name),
                       id(b.name), st, a.wan_address, b.wan_address, edgeStyle(st));
  }
  dot += "}\n";
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".dot" || ext == ".gv") {
    std::ofstream(path) << dot;
    return absl::OkStatus();
  }
  if (ext != ".svg" && ext != ".png") {
    return absl::InvalidArgumentError(fmt::format("-o {}: use a .svg, .png or .dot file", path));
  }
  if (!run("command -v dot").ok()) {
    return absl::FailedPreconditionError("`dot` is missing: install the Debian package graphviz");
  }
  const std::string dot_path = path + ".dot.tmp";
  std::ofstream(dot_path) << dot;
  auto r =
      run(fmt::format("dot -T{} -o {} {}", ext.substr(1), shellQuote(path), shellQuote(dot_path)));
  std::filesystem::remove(dot_path);
  if (!r.ok()) return absl::InternalError("dot failed: " + r.output);
  return absl::OkStatus();
}

}  // namespace coral::lab
