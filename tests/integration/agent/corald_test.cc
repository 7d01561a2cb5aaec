// corald end to end: two node namespaces joined by a veth underlay, a real corald in
// each, pods as namespaces attached through the real coral-cni binary, routes between
// nodes from the datastore's block affinities. Every namespace and process is the
// test's own and removed on every path.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "datastore/file/file_backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/support/child_process.h"
#include "tests/support/corald_process.h"
#include "tests/support/netns.h"

namespace coral::testing {
namespace {

class CoraldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "agent" / "corald"));
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "cni" / "coral-cni"));
    n1_ = std::make_unique<TestNetns>("n1");
    n2_ = std::make_unique<TestNetns>("n2");
    for (const char* p : {"pa", "pb", "pc"}) pods_.push_back(std::make_unique<TestNetns>(p));
    ASSERT_TRUE(n1_->ok() && n2_->ok());
    ASSERT_TRUE(linkUnderlay(*n1_, *n2_));

    store_url_ = "file://" + tmp_.path() + "/store";
    auto backend = datastore::openBackend(store_url_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    datastore::ResourceStore store(**backend);
    for (auto& doc : model::parseResources(poolsYaml() + R"(
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: c, ports: [{name: http, containerPort: 80}]}]
)")) {
      ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();
      ASSERT_TRUE(store.apply(*doc.resource).ok());
    }
    n1d_ = startCorald(*n1_, "n1");
    n2d_ = startCorald(*n2_, "n2");
    ASSERT_TRUE(n1d_->waitReady()) << n1d_->log();
    ASSERT_TRUE(n2d_->waitReady()) << n2d_->log();
  }

  // The IP pools the datastore starts with.
  virtual std::string poolsYaml() const {
    return R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.244.0.0/16, blockSize: 26}
---
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:244::/48"})";
  }

  std::unique_ptr<CoraldProcess> startCorald(const TestNetns& ns, const std::string& node) {
    auto p = std::make_unique<CoraldProcess>(
        ns,
        std::map<std::string, std::string>{{"CORAL_NODENAME", node},
                                           {"CORAL_DATASTORE", store_url_},
                                           {"CORAL_CNI_SOCKET", socket(node)},
                                           {"CORAL_HTTP_PORT", "9099"},
                                           {"CORAL_LOG_LEVEL", "debug"}},
        tmp_.path() + "/" + node + ".log");
    EXPECT_TRUE(p->start());
    return p;
  }

  std::string socket(const std::string& node) const { return tmp_.path() + "/" + node + ".sock"; }
  std::string conf(const std::string& node, const std::string& version = "1.0.0") const {
    return R"({"cniVersion": ")" + version + R"(", "name": "coral", "type": "coral", "socket": ")" +
           socket(node) + R"("})";
  }

  ExecResult coralctl(const std::string& args) const {
    return shell((buildDir() / "ctl" / "coralctl").string() + " --datastore " + store_url_ + " " +
                 args);
  }

  // The CNI error object coral-cni printed (null when the output holds none).
  static model::Json cniError(const CniOutput& r) {
    const auto start = r.out.find('{');
    if (start == std::string::npos) return nullptr;
    auto j = model::Json::parse(r.out.substr(start), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("code")) return nullptr;
    return j;
  }

  TempDir tmp_;
  std::string store_url_;
  std::unique_ptr<TestNetns> n1_, n2_;
  std::vector<std::unique_ptr<TestNetns>> pods_;
  std::unique_ptr<CoraldProcess> n1d_, n2d_;
};

TEST_F(CoraldTest, PodsConnectOnOneNodeAndAcrossNodesThenDelCleansUp) {
  auto a = runCni("ADD", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
  ASSERT_EQ(a.exit_code, 0) << a.out << n1d_->log();
  auto b = runCni("ADD", "cid-b", pods_[1]->path(), "shop", "b", conf("n1"));
  ASSERT_EQ(b.exit_code, 0) << b.out;
  auto c = runCni("ADD", "cid-c", pods_[2]->path(), "shop", "c", conf("n2"));
  ASSERT_EQ(c.exit_code, 0) << c.out << n2d_->log();

  auto result = model::Json::parse(a.out);
  ASSERT_EQ(result["ips"].size(), 2u) << a.out;
  const std::string a4 = result["ips"][0]["address"].get<std::string>();
  EXPECT_EQ(a4.substr(0, 7), "10.244.");
  EXPECT_EQ(result["ips"][0]["gateway"], "169.254.1.1");
  auto c_ips = model::Json::parse(c.out)["ips"];
  const std::string c4 = c_ips[0]["address"].get<std::string>();
  const std::string c6 = c_ips[1]["address"].get<std::string>();
  auto strip = [](std::string s) { return s.substr(0, s.find('/')); };

  // Routes between nodes come from block affinities: wait for n1 to learn n2's block.
  bool routed = false;
  for (int i = 0; i < 100 && !routed; ++i) {
    routed = n1_->exec("ip route show proto 77").output.find("via 10.99.0.2") != std::string::npos;
    if (!routed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(routed) << n1_->exec("ip route").output;
  EXPECT_EQ(pods_[0]
                ->exec("ping -c1 -W2 " + strip(model::Json::parse(b.out)["ips"][0]["address"]))
                .exit_code,
            0)
      << "same node";
  EXPECT_EQ(pods_[0]->exec("ping -c1 -W2 " + strip(c4)).exit_code, 0) << "across nodes v4";
  bool v6 = false;
  for (int i = 0; i < 50 && !v6; ++i) {
    v6 = pods_[0]->exec("ping -6 -c1 -W1 " + strip(c6)).exit_code == 0;
  }
  EXPECT_TRUE(v6) << "across nodes v6\n" << n1_->exec("ip -6 route").output;

  // The endpoint record carries the pod's labels and named ports.
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  auto weps = store.list<model::WorkloadEndpoint>("shop").value();
  ASSERT_EQ(weps.size(), 3u);
  const auto& wa =
      weps[0].spec.pod == "a" ? weps[0] : (weps[1].spec.pod == "a" ? weps[1] : weps[2]);
  EXPECT_EQ(wa.metadata.labels.at("app"), "web");
  ASSERT_EQ(wa.spec.ports.size(), 1u);
  EXPECT_EQ(wa.spec.ports[0].name, "http");

  // The CNI socket is for root and the group only.
  struct stat st {};
  ASSERT_EQ(::stat(socket("n1").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u) << std::oct << (st.st_mode & 0777);

  // coralctl node status reads corald's status service; the nodes mesh over iBGP.
  ExecResult status;
  for (int i = 0; i < 50; ++i) {
    status =
        shell((buildDir() / "ctl" / "coralctl").string() + " node status --socket " + socket("n1"));
    if (status.output.find("Established") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("node n1: ready"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(strip(a4)), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("local-block"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("Established"), std::string::npos) << "node-to-node mesh\n"
                                                                  << status.output << n1d_->log();

  // CHECK passes, then fails once the pod's address is gone.
  EXPECT_EQ(runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  pods_[0]->exec("ip addr flush dev eth0");
  auto broken = runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.out.find("missing"), std::string::npos) << broken.out;

  // DEL removes every trace; DEL again succeeds.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(runCni("DEL", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  }
  EXPECT_EQ(pods_[0]->exec("ip link show eth0").exit_code, 1);
  EXPECT_EQ(n1_->exec("ip route show proto 77").output.find(strip(a4) + " dev"), std::string::npos);
  EXPECT_EQ(store.list<model::WorkloadEndpoint>("shop")->size(), 2u);
  // DEL of a container whose namespace is already gone still succeeds.
  EXPECT_EQ(runCni("DEL", "cid-zz", "/var/run/netns/gone", "shop", "zz", conf("n1")).exit_code, 0);
}

TEST_F(CoraldTest, FailedAddLeavesNothingBehind) {
  auto bad = runCni("ADD", "cid-bad", "/var/run/netns/does-not-exist", "shop", "x", conf("n1"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("\"code\""), std::string::npos) << bad.out;
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  EXPECT_TRUE(store.list<model::WorkloadEndpoint>()->empty());
  EXPECT_TRUE(store.list<model::IPAMHandle>()->empty());
  EXPECT_EQ(n1_->exec("ip -o link show | grep -c cor").output, "0\n");
}

// CHECK looks at every piece ADD set up: break one at a time, CHECK must fail with a CNI
// error naming what is wrong; a DEL and a fresh ADD put everything back between cases.
TEST_F(CoraldTest, CheckFailsWhenAnyPieceOfThePodIsBroken) {
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  struct Pod {
    std::string v4;  // without the prefix length
    std::string host_if;
    std::string wep;
  };
  auto freshAdd = [&]() -> std::optional<Pod> {
    runCni("DEL", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
    auto add = runCni("ADD", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
    EXPECT_EQ(add.exit_code, 0) << add.out << n1d_->log();
    if (add.exit_code != 0) return std::nullopt;
    auto ok = runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
    EXPECT_EQ(ok.exit_code, 0) << "CHECK right after ADD\n" << ok.out;
    auto weps = store.list<model::WorkloadEndpoint>("shop");
    EXPECT_TRUE(weps.ok() && weps->size() == 1u);
    if (!weps.ok() || weps->size() != 1u || ok.exit_code != 0) return std::nullopt;
    const std::string a4 = model::Json::parse(add.out)["ips"][0]["address"].get<std::string>();
    return Pod{a4.substr(0, a4.find('/')), (*weps)[0].spec.interface_name,
               (*weps)[0].metadata.name};
  };
  // CHECK fails with a CNI error whose text names every one of `words`.
  auto expectCheckFails = [&](const std::string& what, std::initializer_list<std::string> words) {
    auto r = runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
    EXPECT_NE(r.exit_code, 0) << what << ": CHECK passed\n" << r.out;
    auto err = cniError(r);
    ASSERT_FALSE(err.is_null()) << what << ": no CNI error JSON\n" << r.out;
    EXPECT_EQ(err["code"].get<int>(), 101) << what << "\n" << r.out;  // kCniErrDataplane
    const std::string text =
        err.value("msg", std::string()) + " " + err.value("details", std::string());
    for (const auto& w : words) {
      EXPECT_NE(text.find(w), std::string::npos) << what << ": error does not name " << w << "\n"
                                                 << r.out;
    }
  };

  // (a) The host's /32 route to the pod.
  auto pod = freshAdd();
  ASSERT_TRUE(pod);
  auto del = n1_->exec("ip route del " + pod->v4 + "/32 dev " + pod->host_if + " proto 77");
  ASSERT_EQ(del.exit_code, 0) << del.output << n1_->exec("ip route").output;
  expectCheckFails("host route deleted", {"host route", pod->v4 + "/32", pod->host_if, "missing"});

  // (b) The pod's default route.
  pod = freshAdd();
  ASSERT_TRUE(pod);
  del = pods_[0]->exec("ip route del default");
  ASSERT_EQ(del.exit_code, 0) << del.output << pods_[0]->exec("ip route").output;
  expectCheckFails("pod default route deleted", {"default route", "169.254.1.1", "missing"});

  // (c) The WorkloadEndpoint record.
  pod = freshAdd();
  ASSERT_TRUE(pod);
  auto deleted = coralctl("delete workloadendpoint " + pod->wep + " -n shop");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  ASSERT_TRUE(store.list<model::WorkloadEndpoint>("shop")->empty());
  expectCheckFails("workload endpoint deleted", {"workload endpoint", pod->wep, "not found"});

  // (d) The host side of the veth (its pod side goes with it).
  pod = freshAdd();
  ASSERT_TRUE(pod);
  del = n1_->exec("ip link del " + pod->host_if);
  ASSERT_EQ(del.exit_code, 0) << del.output;
  expectCheckFails("host veth deleted", {pod->host_if, "No such device"});

  // Everything back: CHECK passes again, and DEL cleans up.
  ASSERT_TRUE(freshAdd());
  EXPECT_EQ(runCni("DEL", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  EXPECT_TRUE(store.list<model::WorkloadEndpoint>("shop")->empty());
}

// A v4-only pool of four addresses in one /30 block: ADDs succeed until it is used up.
class CoraldTinyPoolTest : public CoraldTest {
 protected:
  std::string poolsYaml() const override {
    return R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: tiny}
spec: {cidr: 10.245.0.0/30, blockSize: 30})";
  }
};

TEST_F(CoraldTinyPoolTest, AddFailingOnExhaustedPoolLeavesNothingBehind) {
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  std::vector<std::unique_ptr<TestNetns>> extra;
  int added = 0;
  CniOutput failed;
  TestNetns* failed_ns = nullptr;
  std::string failed_cid;
  for (int i = 0; i < 8 && failed_ns == nullptr; ++i) {
    extra.push_back(std::make_unique<TestNetns>("x" + std::to_string(i)));
    ASSERT_TRUE(extra.back()->ok());
    const std::string cid = "cid-x" + std::to_string(i);
    auto r = runCni("ADD", cid, extra.back()->path(), "shop", "x" + std::to_string(i), conf("n1"));
    if (r.exit_code == 0) {
      ++added;
      continue;
    }
    failed = r;
    failed_ns = extra.back().get();
    failed_cid = cid;
  }
  ASSERT_NE(failed_ns, nullptr) << "8 ADDs on a /30 pool all succeeded";
  EXPECT_GE(added, 1) << failed.out << n1d_->log();
  EXPECT_LE(added, 4);

  // The failure is CNI's "no address" error and says whose ADD it was.
  auto err = cniError(failed);
  ASSERT_FALSE(err.is_null()) << failed.out;
  EXPECT_EQ(err["code"].get<int>(), 100) << failed.out;  // kCniErrNoAddress
  EXPECT_NE(err.value("msg", std::string()).find("no address for pod shop/x"), std::string::npos)
      << failed.out;

  // Only the pods that got an address left anything: endpoints, handles, host veths, routes.
  auto weps = store.list<model::WorkloadEndpoint>("shop");
  ASSERT_TRUE(weps.ok());
  EXPECT_EQ(weps->size(), static_cast<size_t>(added));
  for (const auto& w : *weps) EXPECT_NE(w.spec.container_id, failed_cid);
  auto handles = store.list<model::IPAMHandle>();
  ASSERT_TRUE(handles.ok());
  EXPECT_EQ(handles->size(), static_cast<size_t>(added));
  for (const auto& h : *handles) {
    EXPECT_EQ(h.metadata.name.find(failed_cid), std::string::npos) << h.metadata.name;
  }
  EXPECT_EQ(n1_->exec("ip -o link show | grep -c \" cor\"").output, std::to_string(added) + "\n")
      << n1_->exec("ip -o link show").output;
  EXPECT_EQ(n1_->exec("ip route show proto 77 | grep -c \" dev cor\"").output,
            std::to_string(added) + "\n")
      << n1_->exec("ip route show proto 77").output;
  // The pod's namespace is as the runtime made it: only lo.
  EXPECT_EQ(failed_ns->exec("ip -o link show | grep -vc \": lo:\"").output, "0\n")
      << failed_ns->exec("ip -o link show").output;
  // IPAM agrees: as many addresses in use as pods, and no leak or orphan.
  auto check = coralctl("ipam check");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  auto show = coralctl("ipam show");
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_EQ(show.output.find(failed_cid), std::string::npos) << show.output;

  // DEL of the failed pod succeeds and changes nothing; the others still DEL cleanly.
  EXPECT_EQ(runCni("DEL", failed_cid, failed_ns->path(), "shop", "x", conf("n1")).exit_code, 0);
  for (int i = 0; i < added; ++i) {
    EXPECT_EQ(runCni("DEL", "cid-x" + std::to_string(i), extra[i]->path(), "shop",
                     "x" + std::to_string(i), conf("n1"))
                  .exit_code,
              0);
  }
  EXPECT_TRUE(store.list<model::WorkloadEndpoint>()->empty());
  EXPECT_TRUE(store.list<model::IPAMHandle>()->empty());
}

TEST_F(CoraldTest, RestartKeepsPodsWorkingAndKernelStateUnchanged) {
  ASSERT_EQ(runCni("ADD", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  auto c = runCni("ADD", "cid-c", pods_[2]->path(), "shop", "c", conf("n2"));
  ASSERT_EQ(c.exit_code, 0);
  const std::string target = model::Json::parse(c.out)["ips"][0]["address"].get<std::string>();
  const std::string c4 = target.substr(0, target.find('/'));
  for (int i = 0; i < 100; ++i) {
    if (pods_[0]->exec("ping -c1 -W1 " + c4).exit_code == 0) break;
  }
  const std::string routes_before = n1_->exec("ip route; ip -6 route").output;
  const std::string links_before = n1_->exec("ip -o link show | cut -d: -f2").output;
  // A ping across nodes runs while corald on n1 is killed and started again.
  const std::string ping_log = tmp_.path() + "/ping.log";
  auto ping = shell("ip netns exec " + pods_[0]->name() + " ping -i 0.05 -c 80 " + c4 + " > " +
                    ping_log + " 2>&1 & echo $!");
  n1d_->kill(SIGKILL);
  n1d_ = startCorald(*n1_, "n1");
  ASSERT_TRUE(n1d_->waitReady()) << n1d_->log();
  shell("while kill -0 " + std::string(trim(ping.output)) + " 2>/dev/null; do sleep 0.1; done");
  const std::string ping_out = shell("cat " + ping_log).output;
  EXPECT_NE(ping_out.find("80 packets transmitted, 80 received"), std::string::npos) << ping_out;
  EXPECT_EQ(n1_->exec("ip route; ip -6 route").output, routes_before);
  EXPECT_EQ(n1_->exec("ip -o link show | cut -d: -f2").output, links_before);
  EXPECT_NE(n1d_->httpGet("/metrics").find("coral_endpoints 1"), std::string::npos);
}

}  // namespace
}  // namespace coral::testing
