// ResourceStore over the file backend: keys, CAS through resourceVersion, uid and
// creationTimestamp stamping, validation before writes, selectors, and watch decoding.
#include "datastore/resource_store.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>

#include "common/strings.h"
#include "datastore/file/file_backend.h"

namespace coral::datastore {
namespace {

using model::IPPool;

class ResourceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("coral-rs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    backend_ = openFileBackend(dir_.string()).value();
    store_ = std::make_unique<ResourceStore>(*backend_, clock_);
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  static IPPool pool(std::string name, std::string cidr) {
    IPPool p;
    p.metadata.name = std::move(name);
    p.spec.cidr = std::move(cidr);
    return p;
  }

  std::filesystem::path dir_;
  common::FakeClock clock_;
  BackendPtr backend_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(ResourceStoreTest, CreateStampsMetadataAndAppliesDefaults) {
  auto created = store_->create(pool("blue", "10.0.0.0/16"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->spec.block_size, 26);
  EXPECT_EQ(created->metadata.creation_timestamp, "2023-11-14T22:13:20Z");
  EXPECT_EQ(created->metadata.uid.size(), 36u);
  EXPECT_FALSE(created->metadata.resource_version.empty());
  auto raw = backend_->get("/coral/v1/IPPool/_/blue");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->value.find("resourceVersion"), std::string::npos);  // derived, not stored
  auto again = store_->create(pool("blue", "10.1.0.0/16"));
  EXPECT_TRUE(isAlreadyExists(again.status()));
  EXPECT_EQ(errorMessage(again.status()), "IPPool \"blue\" already exists");
}

TEST_F(ResourceStoreTest, InvalidResourcesAreNeverWritten) {
  auto bad = store_->create(pool("blue", "10.0.0.0/33"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errorMessage(bad.status()),
            "IPPool \"blue\": spec.cidr \"10.0.0.0/33\": prefix length 33 out of range (0-32)");
  EXPECT_TRUE(isNotFound(backend_->get("/coral/v1/IPPool/_/blue").status()));
}

TEST_F(ResourceStoreTest, UpdateIsCompareAndSwapAndKeepsIdentity) {
  auto v1 = store_->create(pool("blue", "10.0.0.0/16")).value();
  clock_.advance(std::chrono::hours(1));
  IPPool edit = v1;
  edit.spec.nat_outgoing = true;
  edit.metadata.uid = "forged";
  edit.metadata.creation_timestamp = "";
  auto v2 = store_->update(edit);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->metadata.uid, v1.metadata.uid);
  EXPECT_EQ(v2->metadata.creation_timestamp, v1.metadata.creation_timestamp);
  EXPECT_NE(v2->metadata.resource_version, v1.metadata.resource_version);
  // A writer holding the old version loses.
  IPPool stale = v1;
  stale.spec.disabled = true;
  auto conflict = store_->update(stale);
  EXPECT_TRUE(isConflict(conflict.status())) << conflict.status();
  EXPECT_FALSE(store_->get<IPPool>("blue")->spec.disabled);
  // Without a resourceVersion the update is unconditional.
  stale.metadata.resource_version.clear();
  EXPECT_TRUE(store_->update(stale).ok());
  EXPECT_TRUE(store_->get<IPPool>("blue")->spec.disabled);
  IPPool ghost = pool("ghost", "10.9.0.0/16");
  EXPECT_TRUE(isNotFound(store_->update(ghost).status()));
}

TEST_F(ResourceStoreTest, ApplyCreatesConfiguresAndSkipsUnchanged) {
  auto r = model::toResource(pool("blue", "10.0.0.0/16"));
  EXPECT_EQ(store_->apply(r)->second, ApplyResult::kCreated);
  EXPECT_EQ(store_->apply(r)->second, ApplyResult::kUnchanged);
  r.spec["natOutgoing"] = true;
  EXPECT_EQ(store_->apply(r)->second, ApplyResult::kConfigured);
}

// get -o yaml > f; someone else changes it; apply -f f must not undo their change.
TEST_F(ResourceStoreTest, ApplyWithAStaleResourceVersionConflictsAndWritesNothing) {
  auto read = model::toResource(store_->create(pool("blue", "10.0.0.0/16")).value());
  const std::string v1 = read.metadata.resource_version;
  IPPool theirs = store_->get<IPPool>("blue").value();
  theirs.spec.disabled = true;
  const std::string v2 = store_->update(theirs).value().metadata.resource_version;
  model::Resource mine = read;
  mine.spec["natOutgoing"] = true;
  auto applied = store_->apply(mine);
  ASSERT_TRUE(isConflict(applied.status())) << applied.status();
  EXPECT_EQ(errorMessage(applied.status()),
            fmt::format("IPPool \"blue\": resourceVersion conflict: the input has "
                        "resourceVersion {} but the stored object is at {} (someone else "
                        "changed it since it was read); get it again and re-apply your change",
                        v1, v2));
  auto stored = store_->get<IPPool>("blue").value();
  EXPECT_EQ(stored.metadata.resource_version, v2);
  EXPECT_TRUE(stored.spec.disabled);
  EXPECT_FALSE(stored.spec.nat_outgoing);
  // The same content at the current version applies; unchanged input is "unchanged".
  mine.metadata.resource_version = v2;
  mine.spec["disabled"] = true;
  EXPECT_EQ(store_->apply(mine).value().second, ApplyResult::kConfigured);
  EXPECT_TRUE(store_->get<IPPool>("blue")->spec.nat_outgoing);
  // Deleted since it was read: a conflict too, not a silent re-create.
  ASSERT_TRUE(store_->remove(model::kindOf<IPPool>(), "", "blue").ok());
  auto gone = store_->apply(mine);
  ASSERT_TRUE(isConflict(gone.status())) << gone.status();
  EXPECT_NE(errorMessage(gone.status()).find("no longer exists"), std::string::npos);
  EXPECT_TRUE(isNotFound(store_->get<IPPool>("blue").status()));
  // Without a resourceVersion apply creates or overwrites, as before.
  mine.metadata.resource_version.clear();
  EXPECT_EQ(store_->apply(mine).value().second, ApplyResult::kCreated);
}

TEST_F(ResourceStoreTest, RemoveWithVersion) {
  auto v1 = store_->create(pool("blue", "10.0.0.0/16")).value();
  const auto& kind = model::kindOf<IPPool>();
  EXPECT_TRUE(isConflict(store_->remove(kind, "", "blue", "999999").status()));
  EXPECT_TRUE(store_->remove(kind, "", "blue", v1.metadata.resource_version).ok());
  EXPECT_TRUE(isNotFound(store_->remove(kind, "", "blue").status()));
}

TEST_F(ResourceStoreTest, ListsByNamespaceAndLabels) {
  for (auto [ns, name, app] :
       {std::tuple{"a", "p1", "web"}, {"a", "p2", "db"}, {"b", "p3", "web"}}) {
    model::Pod pod;
    pod.metadata.name = name;
    pod.metadata.namespace_ = ns;
    pod.metadata.labels["app"] = app;
    ASSERT_TRUE(store_->create(pod).ok());
  }
  const auto& kind = model::kindOf<model::Pod>();
  EXPECT_EQ(store_->list(kind)->items.size(), 3u);
  EXPECT_EQ(store_->list(kind, "a")->items.size(), 2u);
  auto web = store_->list(kind, std::nullopt, common::LabelSelector::parse("app=web").value());
  ASSERT_EQ(web->items.size(), 2u);
  EXPECT_EQ(web->items[0].metadata.name, "p1");
  EXPECT_EQ(web->items[1].metadata.name, "p3");
  // Namespace "a" does not leak into "ab".
  model::Pod other;
  other.metadata.name = "p4";
  other.metadata.namespace_ = "ab";
  ASSERT_TRUE(store_->create(other).ok());
  EXPECT_EQ(store_->list(kind, "a")->items.size(), 2u);
}

TEST_F(ResourceStoreTest, WatchDecodesAddModifyDelete) {
  const auto& kind = model::kindOf<IPPool>();
  auto start = store_->list(kind).value();
  auto watch = store_->watch(kind, std::nullopt, start.revision + 1).value();
  auto created = store_->create(pool("blue", "10.0.0.0/16")).value();
  created.spec.nat_outgoing = true;
  ASSERT_TRUE(store_->update(created).ok());
  ASSERT_TRUE(store_->remove(kind, "", "blue").ok());
  std::vector<ResourceEvent> events;
  for (int i = 0; i < 100 && events.size() < 3; ++i) {
    auto batch = watch.next(std::chrono::milliseconds(50));
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (auto& e : *batch) events.push_back(std::move(e));
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, ResourceEventType::kAdded);
  EXPECT_EQ(events[1].type, ResourceEventType::kModified);
  EXPECT_EQ(events[1].resource.spec["natOutgoing"], true);
  EXPECT_EQ(events[2].type, ResourceEventType::kDeleted);
  EXPECT_EQ(events[2].resource.kind, "IPPool");
  EXPECT_EQ(events[2].resource.metadata.name, "blue");
  EXPECT_LT(events[0].revision, events[1].revision);
}

}  // namespace
}  // namespace coral::datastore
