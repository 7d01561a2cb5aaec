// A fixture for IPAM unit tests: a fresh file-backed datastore in a temp directory, a
// FakeClock, and short helpers to write pools, nodes and the IPAM configuration.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "tests/support/child_process.h"

namespace coral::ipam::testing {

class IpamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto b = datastore::openBackend("file://" + dir_.path());
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = std::move(*b);
    store_ = std::make_unique<datastore::ResourceStore>(*backend_, clock_);
    ipam_ = std::make_unique<Ipam>(*store_);
  }

  void addPool(const std::string& name, const std::string& cidr, int block_size,
               const std::string& selector = "", bool disabled = false) {
    model::IPPool p;
    p.metadata.name = name;
    p.spec.cidr = cidr;
    p.spec.block_size = block_size;
    p.spec.node_selector = selector;
    p.spec.disabled = disabled;
    auto r = store_->create(p);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void addNode(const std::string& name, common::Labels labels = {}) {
    model::Node n;
    n.metadata.name = name;
    n.metadata.labels = std::move(labels);
    auto r = store_->create(n);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void setConfig(bool strict, int max_blocks) {
    model::IPAMConfiguration c;
    c.metadata.name = "default";
    c.spec.strict_affinity = strict;
    c.spec.max_blocks_per_host = max_blocks;
    auto r = store_->apply(model::toResource(c));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void addPod(const std::string& ns, const std::string& name) {
    model::Pod p;
    p.metadata.name = name;
    p.metadata.namespace_ = ns;
    auto r = store_->create(p);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void deletePod(const std::string& ns, const std::string& name) {
    auto r = store_->remove(model::kindOf<model::Pod>(), ns, name);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  absl::StatusOr<AssignResult> assign(const std::string& node, const std::string& handle,
                                      bool v4 = true, bool v6 = false,
                                      const std::string& pod = "") {
    AssignRequest req;
    req.handle_id = handle;
    req.node = node;
    req.ipv4 = v4;
    req.ipv6 = v6;
    req.attributes = {{kAttrNamespace, "default"}, {kAttrPod, pod.empty() ? handle : pod}};
    return ipam_->autoAssign(req);
  }
  // The IPv4 address as text, or the error message.
  std::string assign4(const std::string& node, const std::string& handle) {
    auto r = assign(node, handle);
    if (!r.ok()) return std::string(r.status().message());
    return r->ipv4->address.toString();
  }

  static common::IpAddress ip(const std::string& s) { return *common::IpAddress::parse(s); }
  static common::Prefix prefix(const std::string& s) { return *common::Prefix::parse(s); }

  coral::testing::TempDir dir_;
  common::FakeClock clock_;
  datastore::BackendPtr backend_;
  std::unique_ptr<datastore::ResourceStore> store_;
  std::unique_ptr<Ipam> ipam_;
};

}  // namespace coral::ipam::testing
