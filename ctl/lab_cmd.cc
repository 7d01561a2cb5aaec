#include "ctl/lab_cmd.h"

#include <fmt/format.h>

#include <iostream>

#include "common/labels.h"
#include "common/strings.h"
#include "ctl/lab/datastore_control.h"
#include "ctl/lab/lab.h"
#include "ctl/lab/shell.h"

namespace coral::ctl {

LabCommands::LabCommands(CLI::App& app) {
  lab_ = app.add_subcommand("lab", "A multi-node, two-datacenter Coral cluster on this machine");
  lab_->require_subcommand(1);
  lab_->add_option("--name", name_, "Lab name (default demo); several labs can coexist");
  lab_->add_flag("-v,--verbose", verbose_, "Show every command run");

  up_ = lab_->add_subcommand("up", "Build the lab: BIRD routers, corald nodes, datastore");
  up_->add_option("--config", config_path_, "Lab topology YAML (default: two DCs, two nodes each)");
  up_->add_option("--encapsulation", encapsulation_,
                  "none | vxlan | vxlan-cross-subnet: pod traffic between nodes in VXLAN; the "
                  "routers then learn no pod routes (overrides the config's encapsulation)")
      ->check(CLI::IsMember({"none", "vxlan", "vxlan-cross-subnet"}));
  up_->add_option("--datastore", datastore_,
                  "file | etcd: the embedded file store (default) or a real etcd the lab starts "
                  "in its own namespace, on a unix socket every node reaches (overrides the "
                  "config's datastore)")
      ->check(CLI::IsMember({"file", "etcd"}));
  up_->add_option("--bgp", bgp_,
                  "tor | mesh | rr: nodes peer only with their ToR over eBGP (default), also "
                  "in an iBGP full mesh with the other nodes of their DC, or also over iBGP with "
                  "a coral-bgpd route reflector per DC (overrides the config's bgp)")
      ->check(CLI::IsMember({"tor", "mesh", "rr"}));
  down_ = lab_->add_subcommand("down", "Remove every namespace, process and file of the lab");

  pod_ = lab_->add_subcommand("pod", "Add or delete pods");
  pod_->require_subcommand(1);
  pod_add_ = pod_->add_subcommand("add", "Attach a pod namespace through coral-cni");
  pod_add_->add_option("name", pod_name_, "Pod name")->required();
  pod_add_->add_option("--node", pod_node_, "Node, e.g. dc1-n1")->required();
  pod_add_->add_option("-n,--namespace", pod_ns_, "Namespace (default: default)");
  pod_add_->add_option("--labels", pod_labels_, "Labels: k=v,k2=v2");
  pod_del_ = pod_->add_subcommand("del", "Delete a pod (CNI DEL, then its namespace)");
  pod_del_->add_option("name", pod_name_, "Pod name")->required();
  pod_del_->add_option("-n,--namespace", pod_ns_, "Namespace (default: default)");

  auto* node = lab_->add_subcommand("node", "Lab nodes");
  node->require_subcommand(1);
  node_restart_ = node->add_subcommand("restart", "Stop corald on a node and start it again");
  node_restart_->add_option("name", pod_node_, "Node, e.g. dc1-n1")->required();
  node_restart_->add_flag("--kill", kill_, "SIGKILL instead of SIGTERM (a crash)");
  node_add_ = node->add_subcommand(
      "add", "Add a node to a running lab, built as `lab up` builds one (BIRD peer, corald)");
  node_add_->add_option("name", pod_node_, "Node, e.g. dc1-n3 (starts with its DC's name)")
      ->required();
  node_add_->add_option("--dc", node_dc_, "Data center, e.g. dc1")->required();
  node_del_ = node->add_subcommand(
      "del", "Remove a node: corald, its ToR peer, its Node and IPAM blocks, its namespace");
  node_del_->add_option("name", pod_node_, "Node, e.g. dc1-n3")->required();
  node_del_->add_flag("--force", force_, "Delete the node's pods first (CNI DEL of each)");

  auto* datastore = lab_->add_subcommand(
      "datastore", "Stop or start the lab's etcd (labs made with `lab up --datastore etcd`)");
  datastore->require_subcommand(1);
  auto* datastore_stop = datastore->add_subcommand(
      "stop", "Freeze etcd (SIGSTOP: requests hang until their deadline)");
  datastore_stop->add_flag("--kill", kill_, "SIGTERM instead: etcd exits, connections are refused");
  datastore->add_subcommand("start",
                            "Resume a frozen etcd, or start a killed one again on its data");

  exec_ = lab_->add_subcommand("exec", "Run a command in a pod: lab exec POD [-n NS] -- CMD...");
  exec_->add_option("pod", pod_name_, "Pod name")->required();
  exec_->add_option("-n,--namespace", pod_ns_, "Namespace (default: default)");
  exec_->add_option("command", exec_args_, "Command")->required();

  status_ = lab_->add_subcommand("status", "Routers, BGP sessions, nodes, pods, routes");
  matrix_ = lab_->add_subcommand("matrix", "Who reaches whom: TCP connects between all pods");
  matrix_->add_option("--port", port_, "TCP port (default 80)");
  matrix_->add_flag("-6,--ipv6", ipv6_, "Connect to the pods' IPv6 addresses (dual-stack DCs)");
  graph_ = lab_->add_subcommand("graph", "Draw the topology (Graphviz)");
  graph_->add_option("-o,--output", graph_out_, "FILE.svg, FILE.png or FILE.dot");
}

int LabCommands::run(std::ostream& out, std::ostream& err) {
  lab::setVerbose(verbose_);
  auto report = [&](const absl::Status& s) {
    if (s.ok()) return 0;
    err << "error: " << errorMessage(s) << '\n';
    return 1;
  };
  if (up_->parsed()) {
    auto config = lab::loadLabConfig(config_path_);
    if (!config.ok()) return report(config.status());
    if (lab_->get_option("--name")->count() > 0) config->name = name_;
    if (!encapsulation_.empty()) {
      config->encapsulation = encapsulation_ == "vxlan"                ? "VXLAN"
                              : encapsulation_ == "vxlan-cross-subnet" ? "VXLANCrossSubnet"
                                                                       : "None";
    }
    if (!datastore_.empty()) config->datastore = datastore_;
    if (!bgp_.empty()) config->bgp = bgp_;
    return report(lab::labUp(*config, out));
  }
  if (down_->parsed()) return report(lab::labDown(name_, out));
  if (pod_add_->parsed()) {
    auto labels = common::parseLabelList(pod_labels_);
    if (!labels.ok()) return report(labels.status());
    lab::PodSpec spec{
        .name = pod_name_, .pod_namespace = pod_ns_, .node = pod_node_, .labels = *labels};
    return report(lab::podAdd(name_, spec, out));
  }
  if (pod_del_->parsed()) return report(lab::podDel(name_, pod_ns_, pod_name_, out));
  if (node_restart_->parsed()) return report(lab::nodeRestart(name_, pod_node_, kill_, out));
  if (node_add_->parsed()) return report(lab::nodeAdd(name_, pod_node_, node_dc_, out));
  if (node_del_->parsed()) return report(lab::nodeDel(name_, pod_node_, force_, out));
  if (auto* datastore = lab_->get_subcommand("datastore"); datastore->parsed()) {
    if (datastore->get_subcommand("stop")->parsed()) {
      return report(lab::datastoreStop(
          name_, kill_ ? lab::DatastoreStop::kKill : lab::DatastoreStop::kFreeze, out));
    }
    return report(lab::datastoreStart(name_, out));
  }
  if (exec_->parsed()) return lab::podExec(name_, pod_ns_, pod_name_, exec_args_);
  if (status_->parsed()) return report(lab::printStatus(name_, out));
  if (matrix_->parsed()) return report(lab::printMatrix(name_, port_, ipv6_, out));
  if (graph_->parsed()) {
    auto s = lab::writeGraph(name_, graph_out_);
    if (s.ok()) out << "wrote " << graph_out_ << '\n';
    return report(s);
  }
  return 1;
}

}  // namespace coral::ctl
