// manifests/ as files: the generated CRDs are current, every document parses, every CRD is
// a structural schema Kubernetes accepts, the objects are wired together consistently, and
// every example resource in examples/ and the docs validates against its CRD.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "model/crd.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/unit/manifests/openapi.h"
#include "tests/unit/manifests/test_paths.h"

namespace coral::manifests_test {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> manifestFiles() {
  std::vector<fs::path> files;
  for (const auto& dir : {sourceDir() / "manifests", sourceDir() / "manifests" / "parts"}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The non-empty documents of a YAML file, as JSON.
std::vector<Json> documents(const fs::path& file) {
  std::vector<Json> out;
  for (auto& doc : model::parseYamlDocuments(readFile(file))) {
    EXPECT_TRUE(doc.json.ok()) << file << " document " << doc.index << ": "
                               << errorMessage(doc.json.status());
    if (doc.json.ok() && !doc.json->is_null()) out.push_back(*doc.json);
  }
  return out;
}

Json find(const std::vector<Json>& docs, const std::string& kind, const std::string& name) {
  for (const auto& d : docs) {
    if (d.value("kind", "") == kind && d["metadata"].value("name", "") == name) return d;
  }
  ADD_FAILURE() << "no " << kind << " " << name;
  return Json::object();
}

std::map<std::string, Json> crdsByKind() {
  std::map<std::string, Json> out;
  for (const auto& d : documents(sourceDir() / "manifests" / "coral.yaml")) {
    if (d.value("kind", "") == "CustomResourceDefinition") out[d["spec"]["names"]["kind"]] = d;
  }
  return out;
}

TEST(Manifests, GeneratedCrdsAreCurrent) {
  auto yaml = model::customResourceDefinitionsYaml();
  ASSERT_TRUE(yaml.ok()) << errorMessage(yaml.status());
  const auto committed = readFile(sourceDir() / "manifests" / "parts" / "10-crds.yaml");
  EXPECT_EQ(*yaml, committed)
      << "manifests/parts/10-crds.yaml is stale (the resource model changed): run "
         "scripts/gen-manifests.sh and commit manifests/";
}

TEST(Manifests, EveryDocumentParsesWithYamlCpp) {
  const auto files = manifestFiles();
  ASSERT_GE(files.size(), 8u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::vector<YAML::Node> docs;
    ASSERT_NO_THROW(docs = YAML::LoadAll(readFile(file)));
    int objects = 0;
    for (const auto& doc : docs) {
      if (doc.IsNull()) continue;
      ASSERT_TRUE(doc.IsMap());
      EXPECT_TRUE(doc["apiVersion"].IsScalar());
      EXPECT_TRUE(doc["kind"].IsScalar());
      EXPECT_TRUE(doc["metadata"]["name"].IsScalar());
      ++objects;
    }
    EXPECT_GT(objects, 0);
  }
}

TEST(Manifests, CrdForEveryCoralKindAndOnlyInTheKubernetesVariant) {
  const auto crds = crdsByKind();
  std::set<std::string> want = {"KeyValue"};  // datastore/kubernetes/resource_map.h
  for (const auto& k : model::allKinds()) {
    if (k.api_version == model::kApiGroupVersion) want.insert(k.kind);
  }
  std::set<std::string> have;
  for (const auto& [kind, crd] : crds) have.insert(kind);
  EXPECT_EQ(have, want);
  for (const auto& d : documents(sourceDir() / "manifests" / "coral-etcd.yaml")) {
    EXPECT_NE(d.value("kind", ""), "CustomResourceDefinition")
        << "the etcd variant keeps Coral's resources in etcd: no CRDs";
  }
}

TEST(Manifests, CrdsAreStructural) {
  for (const auto& [kind, crd] : crdsByKind()) {
    SCOPED_TRACE(kind);
    const Json& spec = crd["spec"];
    EXPECT_EQ(crd["metadata"]["name"],
              fmt::format("{}.{}", spec["names"]["plural"].get<std::string>(),
                          spec["group"].get<std::string>()));
    const auto* info = model::findKind(model::kApiGroupVersion, kind);
    ASSERT_TRUE(info != nullptr || kind == "KeyValue");
    EXPECT_EQ(spec["scope"], info == nullptr || !info->namespaced ? "Cluster" : "Namespaced");
    int storage = 0;
    for (const auto& v : spec["versions"]) {
      storage += v.value("storage", false) ? 1 : 0;
      const Json& schema = v["schema"]["openAPIV3Schema"];
      for (const auto& e : structuralErrors(schema)) ADD_FAILURE() << e;
      // Every printer column points at a field of the schema, of the column's type.
      for (const auto& c : v["additionalPrinterColumns"]) {
        const std::string path = c["jsonPath"];
        ASSERT_EQ(path[0], '.');
        if (path == ".metadata.creationTimestamp") continue;
        Json s = schema;
        const std::string fields = path.substr(1);
        for (const auto& part : split(fields, '.')) {
          ASSERT_TRUE(s.contains("properties") && s["properties"].contains(std::string(part)))
              << path;
          Json next = s["properties"][std::string(part)];
          s = std::move(next);
        }
        const std::string type = s.value("type", "");
        EXPECT_TRUE(type == c["type"] || (type == "array" && c["type"] == "string"))
            << path << " is " << type << ", column says " << c["type"];
      }
    }
    EXPECT_EQ(storage, 1);
  }
}

TEST(Manifests, StructuralCheckerRejectsNonStructuralSchemas) {
  // The checker itself: each of these breaks one rule.
  const char* bad[] = {
      R"({"type":"object","properties":{"spec":{"properties":{}}}})",
      R"({"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}}})",
      R"({"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}}}})",
      R"({"type":"object","properties":{"p":{"type":"string","x-kubernetes-int-or-string":true}}})",
      R"({"type":"object","properties":{"p":{"type":"string","pattern":"("}}})",
      R"({"type":"object","properties":{"p":{"type":"string","enum":["a"],"default":"b"}}})",
      R"({"type":"object","properties":{"p":{"type":"array"}}})",
      R"({"type":"object","properties":{"p":{"type":"string","additionalProperties":false}}})",
      R"({"type":"object","properties":{"p":{"type":"string","minimun":1}}})",
  };
  for (const char* s : bad) EXPECT_FALSE(structuralErrors(Json::parse(s)).empty()) << s;
}

TEST(Manifests, DaemonSetConfigAndRbacFitTogether) {
  for (const char* file : {"coral.yaml", "coral-etcd.yaml"}) {
    SCOPED_TRACE(file);
    const auto docs = documents(sourceDir() / "manifests" / file);
    const Json ds = find(docs, "DaemonSet", "corald");
    const Json config = find(docs, "ConfigMap", "coral-config");
    const Json& pod = ds["spec"]["template"]["spec"];
    EXPECT_EQ(pod["hostNetwork"], true);
    EXPECT_EQ(pod["priorityClassName"], "system-node-critical");
    EXPECT_EQ(pod["tolerations"], Json::parse(R"([{"operator":"Exists"}])"));

    // The agent configuration and the probes agree on where /livez and /readyz are.
    auto agent = model::parseYamlDocuments(config["data"]["corald.yaml"].get<std::string>());
    ASSERT_EQ(agent.size(), 1u);
    ASSERT_TRUE(agent[0].json.ok());
    const Json corald_yaml = *agent[0].json;
    const Json& c = pod["containers"][0];
    EXPECT_EQ(c["name"], "corald");
    for (const char* probe : {"livenessProbe", "readinessProbe"}) {
      EXPECT_EQ(c[probe]["httpGet"]["host"], corald_yaml["httpAddress"]) << probe;
      EXPECT_EQ(c[probe]["httpGet"]["port"], corald_yaml["httpPort"]) << probe;
    }
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/livez");
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");

    // The conflist is JSON, Coral first, pointing at the socket corald serves.
    const Json conflist = Json::parse(config["data"]["10-coral.conflist"].get<std::string>());
    EXPECT_EQ(conflist["plugins"][0]["type"], "coral");
    EXPECT_EQ(conflist["plugins"][0]["socket"], corald_yaml["cniSocket"]);

    // The host paths corald and the installer need.
    std::set<std::string> host_paths;
    for (const auto& v : pod["volumes"]) {
      if (v.contains("hostPath")) host_paths.insert(v["hostPath"]["path"]);
    }
    for (const char* p : {"/opt/cni/bin", "/etc/cni/net.d", "/var/run/coral", "/run/netns",
                          "/var/lib/coral", "/run/xtables.lock", "/lib/modules"}) {
      EXPECT_TRUE(host_paths.contains(p)) << p;
    }
    EXPECT_EQ(pod["initContainers"][0]["command"][0], "/usr/local/bin/install-cni.sh");

    const Json controller = find(docs, "Deployment", "coral-controller");
    EXPECT_EQ(controller["spec"]["template"]["spec"]["containers"][0]["command"][0],
              "coral-controller");
  }
  // The Kubernetes variant's corald may touch every Coral resource it names, and each name
  // is a real CRD's plural.
  const auto docs = documents(sourceDir() / "manifests" / "coral.yaml");
  // Every model kind's plural; not keyvalues, which neither corald nor the controller uses.
  std::set<std::string> plurals;
  for (const auto& [kind, crd] : crdsByKind()) {
    if (kind != "KeyValue") plurals.insert(crd["spec"]["names"]["plural"]);
  }
  std::set<std::string> granted;
  const Json node_role = find(docs, "ClusterRole", "coral-node");
  for (const auto& rule : node_role["rules"]) {
    if (rule["apiGroups"][0] != "coral.network") continue;
    for (const auto& r : rule["resources"]) {
      EXPECT_TRUE(plurals.contains(r)) << r;
      granted.insert(r);
    }
  }
  EXPECT_EQ(granted, plurals);
  EXPECT_EQ(find(docs, "ConfigMap", "coral-config")["data"]["datastore"], "kubernetes");
}

// Example resources: examples/**/*.yaml and ```yaml blocks of the Markdown docs.
std::vector<std::pair<std::string, std::string>> exampleTexts() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(sourceDir() / "examples")) {
    if (e.path().extension() == ".yaml") out.emplace_back(e.path().string(), readFile(e.path()));
  }
  std::vector<fs::path> docs = {sourceDir() / "README.md"};
  for (const auto& dir : {sourceDir(), sourceDir() / "docs"}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory() && fs::exists(e.path() / "README.md"))
        docs.push_back(e.path() / "README.md");
      if (e.path().extension() == ".md" && dir != sourceDir()) docs.push_back(e.path());
    }
  }
  static const std::regex fence(R"(```ya?ml\n([\s\S]*?)```)");
  for (const auto& doc : docs) {
    if (doc.string().find("/build") != std::string::npos) continue;
    const std::string text = readFile(doc);
    int n = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), fence), end; it != end; ++it) {
      out.emplace_back(fmt::format("{} block {}", doc.string(), ++n), (*it)[1].str());
    }
  }
  return out;
}

TEST(Manifests, EveryExampleResourceValidatesAgainstItsCrd) {
  const auto crds = crdsByKind();
  int checked = 0;
  for (const auto& [where, text] : exampleTexts()) {
    for (auto& doc : model::parseYamlDocuments(text)) {
      if (!doc.json.ok() || !doc.json->is_object()) continue;
      const Json& r = *doc.json;
      if (r.value("apiVersion", "") != model::kApiGroupVersion) continue;
      SCOPED_TRACE(fmt::format("{} document {}", where, doc.index));
      auto crd = crds.find(r.value("kind", ""));
      ASSERT_NE(crd, crds.end()) << "no CRD for kind " << r.value("kind", "");
      for (const auto& e : validateCustomResource(r, crd->second)) ADD_FAILURE() << e;
      auto parsed = model::parseResources(r.dump());
      ASSERT_EQ(parsed.size(), 1u);
      EXPECT_TRUE(parsed[0].resource.ok()) << errorMessage(parsed[0].resource.status());
      ++checked;
    }
  }
  EXPECT_GE(checked, 10) << "examples/ should hold resources of most kinds";
}

// Resources written into the tests (raw string literals in tests/**/*.cc and *.h): each one
// Coral accepts must pass its CRD schema too, or the API server would refuse what the
// tests treat as valid. (The ones Coral rejects are the validation tests' bad inputs.)
TEST(Manifests, ResourcesCoralAcceptsInTheTestsPassTheirCrd) {
  const auto crds = crdsByKind();
  // The raw string literals R"delim( ... )delim" of a source file (libstdc++'s regex
  // recurses per character and would overflow on long literals).
  auto rawStrings = [](const std::string& text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while ((pos = text.find("R\"", pos)) != std::string::npos) {
      const size_t open = text.find('(', pos + 2);
      if (open == std::string::npos || open - pos - 2 > 16) {
        pos += 2;
        continue;
      }
      const std::string close = ")" + text.substr(pos + 2, open - pos - 2) + "\"";
      const size_t end = text.find(close, open + 1);
      if (end == std::string::npos) break;
      out.push_back(text.substr(open + 1, end - open - 1));
      pos = end + close.size();
    }
    return out;
  };
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(sourceDir() / "tests")) {
    const auto ext = e.path().extension();
    if ((ext != ".cc" && ext != ".h") ||
        e.path().string().find("node_modules") != std::string::npos)
      continue;
    const std::string text = readFile(e.path());
    if (text.find("coral.network/v1") == std::string::npos) continue;
    for (const std::string& body : rawStrings(text)) {
      if (body.find("coral.network/v1") == std::string::npos) continue;
      for (auto& doc : model::parseYamlDocuments(body)) {
        if (!doc.json.ok() || !doc.json->is_object()) continue;
        const Json& r = *doc.json;
        if (r.value("apiVersion", "") != model::kApiGroupVersion) continue;
        auto parsed = model::parseResources(r.dump());
        if (parsed.size() != 1 || !parsed[0].resource.ok()) continue;  // a bad input on purpose
        auto crd = crds.find(r.value("kind", ""));
        ASSERT_NE(crd, crds.end());
        for (const auto& err : validateCustomResource(r, crd->second)) {
          ADD_FAILURE() << e.path().string() << ": " << r.value("kind", "") << " "
                        << r["metadata"].value("name", "") << ": " << err;
        }
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 10) << "the tests held a dozen resources when this was written";
}

}  // namespace
}  // namespace coral::manifests_test
